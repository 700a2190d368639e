package session

import (
	"encoding/base64"
	"testing"
)

func TestThumbprintMatchesRFC8037(t *testing.T) {
	// RFC 8037 appendix A.2/A.3: the example key and its RFC 7638 thumbprint.
	x, _ := base64.RawURLEncoding.DecodeString("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
	if got, want := Thumbprint(x), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"; got != want {
		t.Errorf("thumbprint = %s, want %s", got, want)
	}
}
