package plugin

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"testing"

	"github.com/plexgate/plexgate/forwardauth/session"
)

// TestThumbprintMatchesForwardauth holds the plugin's own RFC 7638
// thumbprint (it stays standard-library only) to forwardauth's, the kid
// forwardauth puts on every session token and in its JWKS: the same
// answer for the RFC 8037 example key, edge-case keys and random keys.
func TestThumbprintMatchesForwardauth(t *testing.T) {
	rfc8037, _ := base64.RawURLEncoding.DecodeString("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
	keys := map[string]ed25519.PublicKey{
		"RFC 8037 example":   rfc8037,
		"from the zero seed": ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public().(ed25519.PublicKey),
		"all zero":           make([]byte, ed25519.PublicKeySize),
		"all 0xff": func() ed25519.PublicKey {
			k := make([]byte, ed25519.PublicKeySize)
			for i := range k {
				k[i] = 0xff
			}
			return k
		}(),
	}
	for i := range 8 {
		pub, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		keys[string(rune('a'+i))+" random"] = pub
	}
	for name, pub := range keys {
		t.Run(name, func(t *testing.T) {
			got, want := thumbprint(pub), session.Thumbprint(pub)
			if got != want || len(got) != 43 {
				t.Fatalf("plugin thumbprint %q, forwardauth %q", got, want)
			}
		})
	}
}
