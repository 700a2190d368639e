package plugin

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzServeHTTP sends the middleware arbitrary Cookie and Authorization
// headers plus one arbitrary header, its name canonicalized as Go's HTTP
// servers do before any middleware runs: it never panics, answers only 200 or
// forwardauth's 401, lets a request through only when it carries the valid
// session token, and then the identity headers are exactly the token's.
func FuzzServeHTTP(f *testing.F) {
	key := fixedKey()
	key.pem = ""
	valid := edToken(f, key, goodClaims())
	f.Add("plexgate_session="+valid, "", "X-Forwarded-User", "mallory")
	f.Add("a=b; plexgate_session="+valid+"; c=d", "", "x_forwarded_groups", "admins")
	f.Add("plexgate_session=\""+valid+"\"", "Bearer junk", "X-Forwarded-Email", "m@evil")
	f.Add("plexgate_session=junk; plexgate_session="+valid, "", "X_FORWARDED_USER", "mallory")
	f.Add("xplexgate_session="+valid, "bearer "+valid[:40], "Cookie", "plexgate_session="+valid)
	f.Add("", "Bearer "+valid, "Authorization", "Bearer junk")
	f.Add("plexgate_session=", "Basic YTpi", "X-Forwarded-Host", "evil.example")

	fa := newCompanion(f)
	fa.setAnswer(denyAll)
	cfg := testConfig(fa.validateURL())
	cfg.PublicKeys = `{"kty":"OKP","crv":"Ed25519","x":"` + enc(key.pub) + `"}`
	m, up, _ := newTestMiddleware(f, cfg, newClock())
	want := map[string]string{"X-Forwarded-User": "alice@example.com", "X-Forwarded-Email": "alice@example.com", "X-Forwarded-Groups": "plex-users,admins"}
	identityName := map[string]bool{"x-forwarded-user": true, "x-forwarded-email": true, "x-forwarded-groups": true}

	f.Fuzz(func(t *testing.T, cookie, auth, name, value string) {
		if !isToken(name) || !serverAccepts(cookie) || !serverAccepts(auth) || !serverAccepts(value) {
			return // Traefik's HTTP server answers 400 before any middleware runs
		}
		req := request("")
		if cookie != "" {
			req.Header["Cookie"] = []string{cookie}
		}
		if auth != "" {
			req.Header["Authorization"] = []string{auth}
		}
		req.Header.Add(name, value) // canonicalized, as every Go server stores names
		up.mu.Lock()
		before := up.calls
		up.mu.Unlock()
		rec := serve(m, req)
		up.mu.Lock()
		passed, got := up.calls != before, up.header
		up.mu.Unlock()
		if rec.Code != http.StatusOK && rec.Code != http.StatusUnauthorized {
			t.Fatalf("status %d", rec.Code)
		}
		if !passed {
			return
		}
		carried := strings.Contains(cookie, valid) || strings.Contains(auth, valid) ||
			(strings.EqualFold(name, "Cookie") || strings.EqualFold(name, "Authorization")) && strings.Contains(value, valid)
		if !carried {
			t.Fatalf("let through without the valid token: cookie %q auth %q %s: %q", cookie, auth, name, value)
		}
		for h := range got {
			if _, isWanted := want[h]; !isWanted && identityName[normalizeHeader(h)] {
				t.Fatalf("client-sent %s reached the upstream", h)
			}
		}
		for h, v := range want {
			if g := got.Values(h); len(g) != 1 || g[0] != v {
				t.Fatalf("identity header %s = %q, want [%q]", h, g, v)
			}
		}
	})
}

// serverAccepts reports whether Go's HTTP servers (and so Traefik) accept v
// as a header value: no control characters other than tab.
func serverAccepts(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
