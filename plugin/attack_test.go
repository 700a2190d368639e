package plugin

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The attack tests try the classes of bugs that gates of this kind have
// shipped (SECURITY.md maps each class to its tests). A denying companion
// stands for forwardauth wherever local verification must not succeed, so
// "refused" means: the upstream was never called.

// denyAll is forwardauth refusing every request.
func denyAll(rw http.ResponseWriter, _ *http.Request) { rw.WriteHeader(http.StatusUnauthorized) }

func TestSpoofedIdentityHeadersNeverReachTheUpstream(t *testing.T) {
	key := newTestKey(t)
	spellings := func(name string) []string {
		lower := strings.ToLower(name)
		return []string{name, lower, strings.ToUpper(name), strings.ReplaceAll(name, "-", "_"),
			strings.ReplaceAll(lower, "-", "_"), strings.ReplaceAll(strings.ToUpper(name), "-", "_"),
			strings.Replace(name, "-", "_", 1)}
	}
	names := []string{"X-Forwarded-User", "X-Forwarded-Email", "X-Forwarded-Groups", "Remote-User", "X-Plex-Admin"}
	forge := func(req *http.Request) {
		for _, name := range names {
			for _, s := range spellings(name) {
				// duplicated and folded values
				forge(req.Header, s, "mallory", "mallory,\r\n admins", " mallory")
			}
		}
	}
	noGroups := goodClaims()
	noGroups["hdr"] = map[string]any{"X-Forwarded-User": "alice@example.com"}
	paths := []struct {
		name    string
		answer  func(http.ResponseWriter, *http.Request)
		cookie  string
		allowed bool // reaches the upstream as alice
	}{
		{"local verification, hdr without groups", denyAll, sessionCookie(edToken(t, key, noGroups)), true},
		{"delegated allow", allowAlice, sessionCookie("opaque"), true},
		{"delegated denial", denyAll, sessionCookie("opaque"), false},
		{"no credential", denyAll, "", false},
	}
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			fa := newCompanion(t)
			fa.setAnswer(p.answer)
			cfg := testConfig(fa.validateURL())
			cfg.PublicKeys = key.pem
			cfg.AuthResponseHeaders = append(cfg.AuthResponseHeaders, "Remote-User", "x-plex-admin")
			m, up, _ := newTestMiddleware(t, cfg, newClock())
			for round := 0; round < 3; round++ { // later rounds of an allowed credential are cache hits
				req := request(p.cookie)
				forge(req)
				serve(m, req)
				if want := map[bool]int{true: round + 1}[p.allowed]; up.calls != want || p.allowed && up.header.Get("X-Forwarded-User") != "alice@example.com" {
					t.Fatalf("round %d: upstream calls %d (want %d), user %q", round, up.calls, want, up.header.Get("X-Forwarded-User"))
				}
				for name, v := range up.header {
					if strings.Contains(strings.Join(v, ","), "mallory") {
						t.Fatalf("round %d: forged %s reached the upstream", round, name)
					}
				}
				if last := fa.last(); last != nil {
					for name, v := range last.Header {
						if strings.Contains(strings.Join(v, ","), "mallory") {
							t.Fatalf("round %d: forged %s sent to forwardauth", round, name)
						}
					}
				}
			}
		})
	}
}

func TestSpoofedForwardedHeadersChangeNothing(t *testing.T) {
	fa := newCompanion(t)
	fa.setAnswer(func(rw http.ResponseWriter, req *http.Request) {
		// forwardauth's answer is built from what it was told.
		rw.Header().Set("Location", "https://auth.example.com/login?rd=https://"+req.Header.Get("X-Forwarded-Host")+req.Header.Get("X-Forwarded-Uri"))
		rw.WriteHeader(http.StatusFound)
	})
	m, up, _ := newTestMiddleware(t, testConfig(fa.validateURL()), newClock())
	req := request("")
	req.TLS = &tls.ConnectionState{}
	spoofed := map[string][]string{
		"X-Forwarded-Host": {"evil.example", "plex.example.com"}, "X-Forwarded-Uri": {"//evil.example/"},
		"X-Forwarded-Proto": {"javascript"}, "X-Forwarded-Prefix": {"//evil.example"}, "X-Forwarded-Port": {"1"},
		"X-Forwarded-Server": {"evil.example"}, "X-Forwarded-For": {"127.0.0.1"}, "X-Forwarded-Method": {"GET"},
		"Forwarded": {"host=evil.example;proto=https"}, "X-Original-Url": {"https://evil.example/"},
		"X-Rewrite-Url": {"//evil.example/"}, "X-Real-Ip": {"127.0.0.1"}, "X_forwarded_host": {"evil.example"},
	}
	for k, v := range spoofed {
		req.Header[k] = v
	}
	rec := serve(m, req)
	if want := "https://auth.example.com/login?rd=https://plex.example.com/web/index.html?x=1"; rec.Code != http.StatusFound || rec.Header().Get("Location") != want {
		t.Fatalf("status %d, Location %q, want 302 to %q", rec.Code, rec.Header().Get("Location"), want)
	}
	if up.calls != 0 {
		t.Fatal("the upstream was called")
	}
	got := fa.last().Header
	for _, name := range []string{"X-Forwarded-Prefix", "X-Forwarded-Port", "X-Forwarded-Server", "Forwarded", "X-Original-Url", "X-Rewrite-Url", "X-Real-Ip", "X_forwarded_host"} {
		if v, ok := got[name]; ok {
			t.Errorf("client's %s reached forwardauth: %q", name, v)
		}
	}
	want := map[string]string{"X-Forwarded-Host": "plex.example.com", "X-Forwarded-Uri": "/web/index.html?x=1",
		"X-Forwarded-Proto": "https", "X-Forwarded-For": "192.0.2.7", "X-Forwarded-Method": "GET"}
	for name, value := range want {
		if v := got.Values(name); len(v) != 1 || v[0] != value {
			t.Errorf("%s = %q, want [%q]", name, v, value)
		}
	}
}

func TestForgedTokensNeverPassLocally(t *testing.T) {
	key, attacker := newTestKey(t), newTestKey(t)
	h := func(kv ...any) string {
		m := map[string]any{"alg": "EdDSA", "typ": "JWT", "kid": key.kid}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(m, kv[i].(string))
			} else {
				m[kv[i].(string)] = kv[i+1]
			}
		}
		return b64JSON(t, m)
	}
	body := b64JSON(t, goodClaims())
	good := signRaw(h(), body, "EdDSA", key, nil)
	tests := []struct {
		name, token string
	}{
		{"alg none", h("alg", "none") + "." + body + "."},
		{"alg none with the real signature", h("alg", "none") + "." + body + "." + good[strings.LastIndexByte(good, '.')+1:]},
		{"HS256 keyed with the Ed25519 public key bytes", signRaw(h("alg", "HS256"), body, "HS256", key, key.pub)},
		{"HS256 keyed with the public key PEM", signRaw(h("alg", "HS256"), body, "HS256", key, []byte(key.pem))},
		{"signed by another key under the real kid", signRaw(h(), body, "EdDSA", attacker, nil)},
		{"signed by another key without kid", signRaw(h("kid", nil), body, "EdDSA", attacker, nil)},
		{"unknown kid", signRaw(h("kid", attacker.kid), body, "EdDSA", attacker, nil)},
		{"injected kid", signRaw(h("kid", "../../jwks?x=1#"), body, "EdDSA", attacker, nil)},
		{"jku to the attacker's keys", signRaw(h("kid", attacker.kid, "jku", "https://evil.example/jwks"), body, "EdDSA", attacker, nil)},
		{"x5u to the attacker's certificate", signRaw(h("kid", attacker.kid, "x5u", "https://evil.example/c.pem"), body, "EdDSA", attacker, nil)},
		{"embedded jwk", signRaw(h("jwk", map[string]any{"kty": "OKP", "crv": "Ed25519", "x": enc(attacker.pub)}), body, "EdDSA", attacker, nil)},
		{"wrong issuer", signRaw(h(), b64JSON(t, withClaim("iss", "https://evil.example")), "EdDSA", key, nil)},
		{"wrong audience", signRaw(h(), b64JSON(t, withClaim("aud", "other")), "EdDSA", key, nil)},
		{"expired", signRaw(h(), b64JSON(t, withClaim("exp", testNow.Add(-31*time.Second).Unix())), "EdDSA", key, nil)},
		{"nbf in the future", signRaw(h(), b64JSON(t, withClaim("nbf", testNow.Add(31*time.Second).Unix())), "EdDSA", key, nil)},
		{"exp as a string", signRaw(h(), b64JSON(t, withClaim("exp", fmt.Sprint(testNow.Add(time.Hour).Unix()))), "EdDSA", key, nil)},
		{"exp far beyond int64 seconds", signRaw(h(), b64JSON(t, withClaim("exp", 1e300)), "EdDSA", key, nil)},
		{"trailing data", good + "x"},
		{"padded", good + "="},
		{"over-long", signRaw(h(), b64JSON(t, withClaim("pad", strings.Repeat("A", 4096))), "EdDSA", key, nil)},
	}
	fa := newCompanion(t)
	fa.setAnswer(denyAll)
	fa.jwks = jwksJSON(key)
	cfg := testConfig(fa.validateURL())
	cfg.JWKSURL = fa.jwksURL()
	m, up, _ := newTestMiddleware(t, cfg, newClock())
	if rec := serve(m, request(sessionCookie(good))); rec.Code != http.StatusOK || up.calls != 1 {
		t.Fatalf("control: a well-formed token got %d", rec.Code)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := fa.calls()
			rec := serve(m, request(sessionCookie(tt.token)))
			if after, _ := fa.calls(); rec.Code != http.StatusUnauthorized || up.calls != 1 || after != before+1 {
				t.Fatalf("status %d, upstream calls %d, delegated %v", rec.Code, up.calls, after == before+1)
			}
		})
	}
	if _, jwks := fa.calls(); jwks > 1 {
		t.Fatalf("%d JWKS fetches: unknown kids must not trigger more than one per interval", jwks)
	}
}

func TestRemovedSigningKeyIsRefusedAfterRefresh(t *testing.T) {
	old, current := newTestKey(t), newTestKey(t)
	fa := newCompanion(t)
	fa.setAnswer(denyAll)
	fa.jwks = jwksJSON(current, old)
	cfg := testConfig(fa.validateURL())
	cfg.JWKSURL = fa.jwksURL()
	clk := newClock()
	m, up, _ := newTestMiddleware(t, cfg, clk)
	oldTok := edToken(t, old, goodClaims())
	if rec := serve(m, request(sessionCookie(oldTok))); rec.Code != http.StatusOK {
		t.Fatalf("old key kept for verification: status %d, want 200", rec.Code)
	}
	fa.mu.Lock()
	fa.jwks = jwksJSON(current)
	fa.mu.Unlock()
	clk.advance(6 * time.Minute) // past the cache TTL and the refresh interval
	// A token of a newly added key makes the plugin fetch the set again.
	newer := newTestKey(t)
	fa.mu.Lock()
	fa.jwks = jwksJSON(current, newer)
	fa.mu.Unlock()
	serve(m, request(sessionCookie(edToken(t, newer, withClaim("sid", "other")))))
	calls := up.calls
	if rec := serve(m, request(sessionCookie(oldTok))); rec.Code != http.StatusUnauthorized || up.calls != calls {
		t.Fatalf("token of a removed key: status %d, want 401 from forwardauth", rec.Code)
	}
}

// The flood reaches the cache: besides invalid tokens (never cached), it
// sends valid tokens that expire within two minutes, each verified and
// cached, and one attacker's valid token under ever new Cookie headers
// (each filed as a line entry). The cache must stay at its bound, and the
// victim's session, filed for the full CacheTTL, must stay in it and keep
// being answered from it (entries closest to expiry are evicted first).
func TestCacheFloodKeepsBoundAndValidSessionsHitting(t *testing.T) {
	key := newTestKey(t)
	fa := newCompanion(t)
	fa.setAnswer(denyAll)
	cfg := testConfig(fa.validateURL())
	cfg.PublicKeys = key.pem
	cfg.CacheMaxEntries = 100
	m, up, _ := newTestMiddleware(t, cfg, newClock())
	victim := edToken(t, key, goodClaims())
	soon := testNow.Add(2 * time.Minute).Unix() // before the 5m CacheTTL
	attacker := edToken(t, key, withClaim("exp", soon))
	other := newTestKey(t)
	serve(m, request(sessionCookie(victim)))
	for i := 0; i < 3000; i++ {
		var line string
		switch i % 5 {
		case 0: // garbage
			line = sessionCookie(fmt.Sprintf("garbage-%d", i))
		case 1: // well-formed, signed by an unknown key
			line = sessionCookie(edToken(t, other, withClaim("sid", fmt.Sprint(i))))
		case 2: // valid signature, expired
			line = sessionCookie(edToken(t, key, withClaim("exp", testNow.Add(-time.Hour).Unix()-int64(i))))
		case 3: // valid, distinct, expiring soon: cached
			c := withClaim("exp", soon)
			c["sid"] = fmt.Sprint(i)
			line = sessionCookie(edToken(t, key, c))
		default: // the attacker's valid token under a new Cookie header: a line entry
			line = fmt.Sprintf("n=%d; %s", i, sessionCookie(attacker))
		}
		want := http.StatusUnauthorized
		if i%5 >= 3 {
			want = http.StatusOK
		}
		if rec := serve(m, request(line)); rec.Code != want {
			t.Fatalf("flood request %d: status %d, want %d", i, rec.Code, want)
		}
		if i%10 == 0 {
			if rec := serve(m, request(sessionCookie(victim))); rec.Code != http.StatusOK {
				t.Fatalf("valid session refused during the flood: %d", rec.Code)
			}
		}
	}
	if n := m.cache.size(); n != 100 {
		t.Fatalf("cache size %d, want exactly its bound 100 (a flood that reached the cache)", n)
	}
	for _, key := range []string{victim, sessionCookie(victim)} {
		if !cached(m.cache, key, testNow) {
			t.Fatalf("the victim's entry %.20q… fell out of the cache", key)
		}
	}
	if up.calls != 1+1200+300 {
		t.Fatalf("upstream calls %d, want 1501 (the victim's 301 and the 1200 valid flood requests)", up.calls)
	}
}

func TestNumerousCookiesAreBounded(t *testing.T) {
	key := newTestKey(t)
	fa := newCompanion(t)
	fa.setAnswer(denyAll)
	cfg := testConfig(fa.validateURL())
	cfg.PublicKeys = key.pem
	m, up, logs := newTestMiddleware(t, cfg, newClock())
	valid := edToken(t, key, goodClaims())
	var line strings.Builder
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&line, "plexgate_session=junk%d; ", i)
	}
	line.WriteString("plexgate_session=" + valid)
	rec := serve(m, request(line.String()))
	if rec.Code != http.StatusUnauthorized || up.calls != 0 {
		t.Fatalf("status %d, upstream calls %d: a credential past the first %d was used", rec.Code, up.calls, maxCredentials)
	}
	if n := strings.Count(logs.String(), "local verification failed"); n > maxCredentials {
		t.Fatalf("%d local verifications for one request, want at most %d", n, maxCredentials)
	}
	huge := request(sessionCookie(strings.Repeat("A", 1<<20)))
	if rec := serve(m, huge); rec.Code != http.StatusUnauthorized {
		t.Fatalf("1 MB cookie: status %d, want forwardauth's 401", rec.Code)
	}
}

func TestLeewayBoundsClockSkew(t *testing.T) {
	key := newTestKey(t)
	tests := []struct {
		name   string
		claims map[string]any
		local  bool // verified locally (else delegated, and refused here)
	}{
		{"expired 29s ago, within the 30s leeway", withClaim("exp", testNow.Add(-29*time.Second).Unix()), true},
		{"expired 31s ago, beyond the leeway", withClaim("exp", testNow.Add(-31*time.Second).Unix()), false},
		{"valid from 29s ahead, within the leeway", withClaim("nbf", testNow.Add(29*time.Second).Unix()), true},
		{"valid from 31s ahead, beyond the leeway", withClaim("nbf", testNow.Add(31*time.Second).Unix()), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fa := newCompanion(t)
			fa.setAnswer(denyAll)
			cfg := testConfig(fa.validateURL())
			cfg.PublicKeys = key.pem
			m, up, _ := newTestMiddleware(t, cfg, newClock())
			rec := serve(m, request(sessionCookie(edToken(t, key, tt.claims))))
			if got := rec.Code == http.StatusOK && up.calls == 1; got != tt.local {
				t.Fatalf("status %d, upstream calls %d; want allowed=%v", rec.Code, up.calls, tt.local)
			}
		})
	}
}
