package plugin

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// FuzzNew builds the middleware from arbitrary configuration values, as
// Traefik's weakly typed decoder could deliver them: New never panics,
// either returns a working handler or an error, never both, and an error
// never quotes the HS256 secret.
func FuzzNew(f *testing.F) {
	key := fixedKey()
	f.Add("http://forwardauth:4181/validate", "plexgate_session", "30s", "5m", 10000, "X-Forwarded-User,X-Forwarded-Email", key.pem, "0123456789abcdef0123456789abcdef", "info")
	f.Add("ftp://x", "bad name", "-1s", "1e9h", 0, "X Forwarded,", "{", "short", "loud")
	f.Add("http://u:p@h/validate", "", "9999999999", "", -5, ",,,", `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AAAA"}]}`, "", "")
	f.Add("https://[::1]:4181/v", "c", "5m1s", "0", 1, "Cookie,Host", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", strings.Repeat("s", 31), "DEBUG")
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	f.Fuzz(func(t *testing.T, validate, cookie, leeway, ttl string, maxEntries int, headers, keys, secret, level string) {
		cfg := CreateConfig()
		cfg.ValidateURL, cfg.CookieName, cfg.Leeway, cfg.CacheTTL = validate, cookie, leeway, ttl
		cfg.CacheMaxEntries, cfg.PublicKeys, cfg.HMACSecret, cfg.LogLevel = maxEntries, keys, secret, level
		cfg.AuthResponseHeaders = strings.Split(headers, ",")
		h, err := New(context.Background(), next, cfg, "fuzz")
		if (h == nil) == (err == nil) {
			t.Fatalf("handler %v and error %v", h, err)
		}
		if err != nil && len(secret) >= 8 && strings.Contains(err.Error(), secret) {
			t.Fatalf("the secret appears in the error: %v", err)
		}
	})
}

// FuzzParsePublicKeys feeds arbitrary PublicKeys values to the key parser:
// it never panics, and every key it returns is an Ed25519 public key.
func FuzzParsePublicKeys(f *testing.F) {
	key := fixedKey()
	f.Add(key.pem)
	f.Add(jwksJSON(key))
	f.Add(`{"kty":"OKP","crv":"Ed25519","x":"` + enc(key.pub) + `","kid":"k"}`)
	f.Add(`{"keys":[{"kty":"RSA"},{"kty":"OKP","crv":"Ed25519","use":"enc","x":"AA"}]}`)
	f.Add("-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\ntrailing")
	f.Fuzz(func(t *testing.T, raw string) {
		keys, err := parsePublicKeys(raw)
		if err != nil {
			return
		}
		for kid, k := range keys {
			if len(k) != 32 || kid == "" {
				t.Fatalf("key %q of %d bytes", kid, len(k))
			}
		}
	})
}
