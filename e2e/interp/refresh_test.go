package interp

import (
	"crypto/ed25519"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// refreshClaims are claims whose refresh point ("rat") is at now + in.
func refreshClaims(sid string, in time.Duration) map[string]any {
	c := claims(sid)
	signedIn := time.Now().Add(-time.Hour).Unix() // auth_time <= iat <= rat
	c["auth_time"], c["iat"], c["nbf"] = signedIn, signedIn, signedIn
	c["rat"] = time.Now().Add(in).Unix()
	return c
}

// refresher is a /validate that refreshes every session it is asked about
// (200, bob, a fresh cookie), or fails with status when status is set.
type refresher struct {
	srv    *httptest.Server
	calls  atomic.Int64
	status atomic.Int64
}

func newRefresher(tb testing.TB) *refresher {
	r := &refresher{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		r.calls.Add(1)
		if s := r.status.Load(); s != 0 {
			rw.WriteHeader(int(s))
			return
		}
		rw.Header().Set("X-Forwarded-User", "bob@example.com")
		rw.Header().Add("Set-Cookie", "plexgate_session=fresh; Path=/; HttpOnly")
	}))
	tb.Cleanup(r.srv.Close)
	return r
}

func TestInterpretedRefreshPoint(t *testing.T) {
	key := newKeyPair(t)
	fa := newRefresher(t)
	up := &recorder{}
	h := mustHandler(t, map[string]any{"ValidateURL": fa.srv.URL + "/validate", "PublicKeys": key.pem, "Issuer": issuer}, up)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, request(edToken(key, refreshClaims("before", time.Hour))))
	if rec.Code != http.StatusOK || fa.calls.Load() != 0 || rec.Header().Get("Set-Cookie") != "" || up.lastUser() != "alice@example.com" {
		t.Fatalf("before the refresh point: status %d, validate calls %d, Set-Cookie %q, user %q",
			rec.Code, fa.calls.Load(), rec.Header().Get("Set-Cookie"), up.lastUser())
	}
	due := edToken(key, refreshClaims("due", -time.Second))
	for i := 0; i < 2; i++ {
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, request(due))
		if rec.Code != http.StatusOK || up.lastUser() != "bob@example.com" {
			t.Fatalf("past the refresh point, round %d: status %d, user %q", i, rec.Code, up.lastUser())
		}
	}
	if got := rec.Header().Get("Set-Cookie"); fa.calls.Load() != 1 || got != "" {
		t.Fatalf("validate calls %d, Set-Cookie on the cached round %q; want 1, none", fa.calls.Load(), got)
	}

	fa.status.Store(http.StatusBadGateway) // forwardauth failing: the token is honoured
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, request(edToken(key, refreshClaims("outage", -time.Second))))
	if rec.Code != http.StatusOK || up.lastUser() != "alice@example.com" {
		t.Fatalf("forwardauth failing at the refresh point: status %d, user %q", rec.Code, up.lastUser())
	}
}

func TestInterpretedJWKSMaxAgeDropsRemovedKeys(t *testing.T) {
	retired, current := newKeyPair(t), newKeyPair(t)
	var mu sync.Mutex
	published := []keyPair{retired, current}
	var fetches atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		if req.URL.Path != "/jwks" {
			rw.WriteHeader(http.StatusUnauthorized)
			return
		}
		fetches.Add(1)
		mu.Lock()
		defer mu.Unlock()
		body := `{"keys":[`
		for i, k := range published {
			if i > 0 {
				body += ","
			}
			pub := k.priv.Public().(ed25519.PublicKey)
			body += `{"kty":"OKP","crv":"Ed25519","kid":"` + k.kid + `","x":"` + base64.RawURLEncoding.EncodeToString(pub) + `"}`
		}
		_, _ = rw.Write([]byte(body + "]}"))
	}))
	defer srv.Close()
	up := &recorder{}
	h := mustHandler(t, map[string]any{
		"ValidateURL": srv.URL + "/validate", "JWKSURL": srv.URL + "/jwks",
		"JWKSMaxAge": "1s", "JWKSMinRefreshInterval": "1s",
	}, up)
	status := func(k keyPair) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, request(edToken(k, claims("s"))))
		return rec.Code
	}
	if status(retired) != http.StatusOK || status(current) != http.StatusOK {
		t.Fatal("tokens of published keys refused")
	}
	mu.Lock()
	published = []keyPair{current}
	mu.Unlock()
	time.Sleep(1100 * time.Millisecond) // past JWKSMaxAge: the copy is re-read on the next request
	if got := status(retired); got != http.StatusUnauthorized {
		t.Fatalf("token of a removed key: status %d, want 401 from forwardauth", got)
	}
	if got := status(current); got != http.StatusOK {
		t.Fatalf("token of a published key: status %d", got)
	}
	if fetches.Load() != 2 {
		t.Fatalf("jwks fetches %d, want 2", fetches.Load())
	}
}
