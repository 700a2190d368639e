package interp

import (
	"crypto/ed25519"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestManifestTestDataPassesNew(t *testing.T) {
	_, m := builder(t)
	if m.Type != "middleware" || m.Import != moduleName+"/plugin" || m.DisplayName == "" || m.Summary == "" {
		t.Fatalf("manifest: %+v", m)
	}
	if _, err := newHandler(t, m.TestData, &recorder{}); err != nil {
		t.Fatalf("testData does not pass New: %v", err)
	}
}

func TestStringValuedConfigIsDecodedLikeTraefik(t *testing.T) {
	fa := newForwardauth(t)
	up := &recorder{}
	// What a docker-labels provider produces: every value a string, lists
	// comma-separated.
	h := mustHandler(t, map[string]any{
		"validateURL":         fa.srv.URL,
		"cacheMaxEntries":     "100",
		"cacheTTL":            "120",
		"authResponseHeaders": "X-Forwarded-User,X-Forwarded-Email",
		"authRequestHeaders":  "Accept",
	}, up)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, request("good"))
	if rec.Code != http.StatusOK || up.lastUser() != "bob@example.com" {
		t.Fatalf("status %d, user %q", rec.Code, up.lastUser())
	}
}

func TestInvalidConfigFailsInterpreted(t *testing.T) {
	_, err := newHandler(t, map[string]any{"validateURL": "", "cacheTTL": "soon"}, &recorder{})
	if err == nil || !strings.Contains(err.Error(), "ValidateURL is required") || !strings.Contains(err.Error(), "CacheTTL") {
		t.Fatalf("err = %v", err)
	}
}

func TestInterpretedBehaviours(t *testing.T) {
	key := newKeyPair(t)
	edTok, hsTok := edToken(key, claims("ed")), hsToken(claims("hs"))
	cases := []struct {
		name       string
		cookie     string
		forged     bool
		rounds     int
		wantStatus int
		wantUser   string
		wantCalls  int64 // calls to /validate over all rounds
	}{
		{"EdDSA token verified locally, then a cache hit", edTok, false, 3, http.StatusOK, "alice@example.com", 0},
		{"HS256 token verified locally", hsTok, false, 1, http.StatusOK, "alice@example.com", 0},
		{"opaque session delegated once, then a cache hit", "good", false, 3, http.StatusOK, "bob@example.com", 1},
		{"unknown session relayed as the login redirect", "bad", false, 2, http.StatusFound, "", 2},
		{"forged identity without a session is removed and denied", "", true, 1, http.StatusFound, "", 1},
		{"forged identity is replaced on a hit", edTok, true, 2, http.StatusOK, "alice@example.com", 0},
		{"forged identity is replaced after delegation", "good", true, 2, http.StatusOK, "bob@example.com", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fa := newForwardauth(t)
			up := &recorder{}
			h := mustHandler(t, map[string]any{
				"ValidateURL": fa.srv.URL + "/validate", "PublicKeys": key.pem,
				"HMACSecret": testSecret, "Issuer": issuer,
				"AuthResponseHeaders": "X-Forwarded-User,X-Forwarded-Email,X-Forwarded-Groups,Remote-User",
			}, up)
			for i := 0; i < tc.rounds; i++ {
				req := request(tc.cookie)
				if tc.forged {
					// as Traefik's server stores x_Forwarded_User, x-forwarded-user,
					// x-forwarded-groups and remote_user: the allow paths set
					// X-Forwarded-User themselves, so the others show stripping
					for _, name := range []string{"X_forwarded_user", "X-Forwarded-User", "X-Forwarded-Groups", "X-Forwarded-Email", "Remote_user", "Remote-User"} {
						req.Header[name] = []string{"mallory"}
					}
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != tc.wantStatus {
					t.Fatalf("round %d: status %d, want %d", i, rec.Code, tc.wantStatus)
				}
				if name := up.forged(); name != "" {
					t.Fatalf("round %d: forged %s reached the upstream", i, name)
				}
				if tc.wantStatus == http.StatusOK && up.calls.Load() != int64(i+1) {
					t.Fatalf("round %d: upstream calls %d", i, up.calls.Load())
				}
				if tc.wantStatus == http.StatusFound && !strings.HasPrefix(rec.Header().Get("Location"), issuer+"/login") {
					t.Fatalf("round %d: Location %q", i, rec.Header().Get("Location"))
				}
			}
			if tc.wantStatus == http.StatusOK && up.lastUser() != tc.wantUser {
				t.Fatalf("upstream user %q, want %q", up.lastUser(), tc.wantUser)
			}
			if tc.wantStatus != http.StatusOK && up.calls.Load() != 0 {
				t.Fatalf("upstream reached %d times on a denial", up.calls.Load())
			}
			if got := fa.calls.Load(); got != tc.wantCalls {
				t.Fatalf("/validate calls %d, want %d", got, tc.wantCalls)
			}
		})
	}
}

func TestInterpretedUnreachableCompanionGives503(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	up := &recorder{}
	h := mustHandler(t, map[string]any{"ValidateURL": dead.URL + "/validate", "Timeout": "1s"}, up)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, request("good"))
	if rec.Code != http.StatusServiceUnavailable || up.calls.Load() != 0 {
		t.Fatalf("status %d, upstream calls %d", rec.Code, up.calls.Load())
	}
}

func TestInterpretedJWKSFetchOnUnknownKid(t *testing.T) {
	key := newKeyPair(t)
	var jwksCalls int
	pub := []byte(key.priv.Public().(ed25519.PublicKey))
	jwks := `{"keys":[{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","use":"sig","kid":"` + key.kid +
		`","x":"` + base64.RawURLEncoding.EncodeToString(pub) + `"}]}`
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		if req.URL.Path == "/jwks" {
			jwksCalls++
			_, _ = rw.Write([]byte(jwks))
			return
		}
		rw.WriteHeader(http.StatusUnauthorized)
	}))
	defer srv.Close()
	up := &recorder{}
	h := mustHandler(t, map[string]any{"ValidateURL": srv.URL + "/validate", "JWKSURL": srv.URL + "/jwks"}, up)
	for i := 0; i < 2; i++ {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, request(edToken(key, claims("j"))))
		if rec.Code != http.StatusOK || up.lastUser() != "alice@example.com" {
			t.Fatalf("round %d: status %d, user %q", i, rec.Code, up.lastUser())
		}
	}
	if jwksCalls != 1 {
		t.Fatalf("jwks fetched %d times, want 1", jwksCalls)
	}
}
