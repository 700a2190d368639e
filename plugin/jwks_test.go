package plugin

import (
	"encoding/base64"
	"testing"
)

func TestThumbprintMatchesRFC8037Example(t *testing.T) {
	// RFC 8037 appendix A.3.
	x, _ := base64.RawURLEncoding.DecodeString("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
	if got := thumbprint(x); got != "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k" {
		t.Fatalf("thumbprint = %s", got)
	}
}

func TestPublicKeysAcceptPEMJWKAndJWKS(t *testing.T) {
	a, b := newTestKey(t), newTestKey(t)
	x := base64.RawURLEncoding.EncodeToString(a.pub)
	cases := []struct {
		name    string
		raw     string
		wantIDs []string
	}{
		{"two PEM blocks", a.pem + "\n" + b.pem, []string{a.kid, b.kid}},
		{"one JWK without kid", `{"kty":"OKP","crv":"Ed25519","x":"` + x + `"}`, []string{a.kid}},
		{"one JWK with its own kid", `{"kty":"OKP","crv":"Ed25519","x":"` + x + `","kid":"k1"}`, []string{a.kid, "k1"}},
		{"JWKS skipping an RSA key", `{"keys":[{"kty":"RSA","n":"x","e":"AQAB"},` + jwksJSON(b)[9:], []string{b.kid}},
		{"empty", "  ", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			keys, err := parsePublicKeys(tc.raw)
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) != len(tc.wantIDs) {
				t.Fatalf("%d keys, want %d", len(keys), len(tc.wantIDs))
			}
			for _, id := range tc.wantIDs {
				if keys[id] == nil {
					t.Errorf("no key %q", id)
				}
			}
		})
	}
}
