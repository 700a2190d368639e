package interp

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

// The attack classes of plugin/attack_test.go, run through Traefik's
// plugin loader and Yaegi: the interpreted plugin must refuse exactly what
// the compiled one refuses (SECURITY.md maps each class to its tests).

// spyForwardauth answers like newForwardauth and keeps the last request's
// headers.
type spyForwardauth struct {
	*forwardauth
	mu   sync.Mutex
	last http.Header
}

func newSpyForwardauth(t *testing.T) *spyForwardauth {
	s := &spyForwardauth{forwardauth: &forwardauth{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		s.calls.Add(1)
		s.mu.Lock()
		s.last = req.Header.Clone()
		s.mu.Unlock()
		if strings.Contains(req.Header.Get("Cookie"), "plexgate_session=good") {
			rw.Header().Set("X-Forwarded-User", "bob@example.com")
			return
		}
		rw.Header().Set("Location", issuer+"/login?rd=https://"+req.Header.Get("X-Forwarded-Host")+req.Header.Get("X-Forwarded-Uri"))
		rw.WriteHeader(http.StatusFound)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *spyForwardauth) lastHeader() http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// identityRecorder keeps every header value the upstream saw.
type identityRecorder struct {
	mu    sync.Mutex
	calls int
	seen  []string
}

func (r *identityRecorder) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.calls++
	for name, v := range req.Header {
		r.seen = append(r.seen, name+": "+strings.Join(v, ","))
	}
	r.mu.Unlock()
}

func (r *identityRecorder) leaked() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.seen {
		if strings.Contains(s, "mallory") {
			return s
		}
	}
	return ""
}

func TestInterpretedSpoofedIdentityHeadersNeverPass(t *testing.T) {
	key := newKeyPair(t)
	spellings := []string{"X-Forwarded-User", "x-forwarded-user", "X-FORWARDED-USER", "X_Forwarded_User", "x_forwarded_user",
		"X-Forwarded_User", "X-Forwarded-Groups", "x_forwarded_email", "Remote-User", "remote_user", "REMOTE-USER"}
	edTok := edToken(key, claims("s"))
	for _, cookie := range []string{edTok, "good", "bad", ""} {
		allowed := cookie == edTok || cookie == "good"
		t.Run("cookie "+cookie[:min(len(cookie), 8)], func(t *testing.T) {
			fa := newSpyForwardauth(t)
			up := &identityRecorder{}
			h := mustHandler(t, map[string]any{"ValidateURL": fa.srv.URL + "/validate", "PublicKeys": key.pem, "Issuer": issuer,
				"AuthResponseHeaders": "X-Forwarded-User,X-Forwarded-Email,X-Forwarded-Groups,Remote-User"}, up)
			for round := 0; round < 3; round++ {
				req := request(cookie)
				for _, s := range spellings {
					// stored under the canonical name, as Traefik's server does
					k := textproto.CanonicalMIMEHeaderKey(s)
					req.Header[k] = append(req.Header[k], "mallory", "mallory,\r\n admins")
				}
				h.ServeHTTP(httptest.NewRecorder(), req)
				if want := map[bool]int{true: round + 1}[allowed]; up.calls != want {
					t.Fatalf("round %d: upstream calls %d, want %d", round, up.calls, want)
				}
				if l := up.leaked(); l != "" {
					t.Fatalf("round %d: forged header reached the upstream: %s", round, l)
				}
				if last := fa.lastHeader(); last != nil && strings.Contains(fmt.Sprint(last), "mallory") {
					t.Fatalf("round %d: forged header sent to forwardauth", round)
				}
			}
		})
	}
}

func TestInterpretedSpoofedForwardedHeadersChangeNothing(t *testing.T) {
	fa := newSpyForwardauth(t)
	up := &identityRecorder{}
	h := mustHandler(t, map[string]any{"ValidateURL": fa.srv.URL + "/validate"}, up)
	req := request("bad")
	for k, v := range map[string]string{"X-Forwarded-Host": "evil.example", "X-Forwarded-Uri": "//evil.example/",
		"X-Forwarded-Proto": "javascript", "X-Forwarded-Prefix": "//evil.example", "X-Forwarded-Port": "1",
		"Forwarded": "host=evil.example", "X-Original-Url": "https://evil.example/", "X-Real-Ip": "127.0.0.1"} {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if want := issuer + "/login?rd=https://plex.example.com/web/index.html"; rec.Code != http.StatusFound || rec.Header().Get("Location") != want {
		t.Fatalf("status %d, Location %q, want %q", rec.Code, rec.Header().Get("Location"), want)
	}
	got := fa.lastHeader()
	for _, name := range []string{"X-Forwarded-Prefix", "X-Forwarded-Port", "Forwarded", "X-Original-Url", "X-Real-Ip"} {
		if v, ok := got[name]; ok {
			t.Errorf("client's %s reached forwardauth: %q", name, v)
		}
	}
	if got.Get("X-Forwarded-Proto") != "http" || got.Get("X-Forwarded-Uri") != "/web/index.html" {
		t.Errorf("forwarded proto %q, uri %q", got.Get("X-Forwarded-Proto"), got.Get("X-Forwarded-Uri"))
	}
}

func TestInterpretedForgedTokensAreDelegatedAndRefused(t *testing.T) {
	key, attacker := newKeyPair(t), newKeyPair(t)
	pub := []byte(key.priv.Public().(ed25519.PublicKey))
	sign := func(head map[string]any, c map[string]any, k ed25519.PrivateKey, hsKey []byte) string {
		signed := segment(head) + "." + segment(c)
		if hsKey != nil {
			mac := hmac.New(sha256.New, hsKey)
			mac.Write([]byte(signed))
			return signed + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
		}
		return signed + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(k, []byte(signed)))
	}
	ed := map[string]any{"alg": "EdDSA", "typ": "JWT", "kid": key.kid}
	with := func(m map[string]any, k string, v any) map[string]any {
		out := map[string]any{}
		for kk, vv := range m {
			out[kk] = vv
		}
		out[k] = v
		return out
	}
	c := claims("f")
	good := edToken(key, c)
	tests := map[string]string{
		"alg none":                        segment(with(ed, "alg", "none")) + "." + segment(c) + ".",
		"HS256 keyed with the public key": sign(with(ed, "alg", "HS256"), c, nil, pub),
		"another key under the real kid":  sign(ed, c, attacker.priv, nil),
		"jku to the attacker's keys":      sign(with(with(ed, "kid", attacker.kid), "jku", "https://evil.example/k"), c, attacker.priv, nil),
		"wrong issuer":                    sign(ed, with(c, "iss", "https://evil.example"), key.priv, nil),
		"expired":                         sign(ed, with(c, "exp", time.Now().Add(-time.Hour).Unix()), key.priv, nil),
		"exp as a string":                 sign(ed, with(c, "exp", fmt.Sprint(time.Now().Add(time.Hour).Unix())), key.priv, nil),
		"nbf in the future":               sign(ed, with(c, "nbf", time.Now().Add(time.Hour).Unix()), key.priv, nil),
		"trailing data":                   good + "x",
		"aud as an array":                 sign(ed, with(c, "aud", []string{"plexgate"}), key.priv, nil),
		"exp and an expired EXP":          sign(ed, with(c, "EXP", time.Now().Add(-time.Hour).Unix()), key.priv, nil),
		"no kid":                          sign(map[string]any{"alg": "EdDSA", "typ": "JWT"}, c, key.priv, nil),
		"iat an hour ahead":               sign(ed, with(c, "iat", time.Now().Add(time.Hour).Unix()), key.priv, nil),
		"nbf of 1e20":                     sign(ed, with(c, "nbf", 1e20), key.priv, nil),
		"unused low bits set":             good[:len(good)-1] + lowBitsSet(good[len(good)-1]),
		"over-long":                       sign(ed, with(c, "pad", strings.Repeat("A", 4096)), key.priv, nil),
	}
	fa := newSpyForwardauth(t)
	up := &identityRecorder{}
	h := mustHandler(t, map[string]any{"ValidateURL": fa.srv.URL + "/validate", "PublicKeys": key.pem, "Issuer": issuer}, up)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, request(good))
	if rec.Code != http.StatusOK || up.calls != 1 {
		t.Fatalf("control: a well-formed token got %d", rec.Code)
	}
	for name, tok := range tests {
		t.Run(name, func(t *testing.T) {
			before := fa.calls.Load()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, request(tok))
			if rec.Code != http.StatusFound || up.calls != 1 || fa.calls.Load() != before+1 {
				t.Fatalf("status %d, upstream calls %d", rec.Code, up.calls)
			}
		})
	}
}

func TestInterpretedCacheFloodKeepsValidSessionsHitting(t *testing.T) {
	key := newKeyPair(t)
	fa := newSpyForwardauth(t)
	up := &identityRecorder{}
	h := mustHandler(t, map[string]any{"ValidateURL": fa.srv.URL + "/validate", "PublicKeys": key.pem,
		"Issuer": issuer, "CacheMaxEntries": "50"}, up)
	valid := edToken(key, claims("v"))
	for i := 0; i < 500; i++ {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, request(fmt.Sprintf("flood-%d", i)))
		if rec.Code != http.StatusFound {
			t.Fatalf("flood %d: status %d", i, rec.Code)
		}
		if i%10 == 0 {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, request(valid))
			if rec.Code != http.StatusOK {
				t.Fatalf("valid session refused during the flood: %d", rec.Code)
			}
		}
	}
	if fa.calls.Load() != 500 || up.calls != 50 {
		t.Fatalf("/validate calls %d (want 500, the flood only), upstream calls %d (want 50)", fa.calls.Load(), up.calls)
	}
}

// After a delegated allow of a Bearer request that also carries an
// unrelated cookie, the next request with only that cookie is refused:
// the answer is never filed under the Cookie header.
func TestInterpretedBearerAnswerIsNeverFiledUnderAnUnrelatedCookie(t *testing.T) {
	fa := &forwardauth{}
	fa.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		fa.calls.Add(1)
		if req.Header.Get("Authorization") == "Bearer api-token" {
			rw.Header().Set("X-Forwarded-User", "bob@example.com")
			return
		}
		rw.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(fa.srv.Close)
	up := &recorder{}
	h := mustHandler(t, map[string]any{"ValidateURL": fa.srv.URL + "/validate"}, up)
	req := request("")
	req.Header.Set("Cookie", "theme=dark")
	req.Header.Set("Authorization", "Bearer api-token")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || up.calls.Load() != 1 || up.lastUser() != "bob@example.com" {
		t.Fatalf("bearer + theme=dark: status %d, upstream calls %d, user %q", rec.Code, up.calls.Load(), up.lastUser())
	}
	req = request("")
	req.Header.Set("Cookie", "theme=dark")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized || up.calls.Load() != 1 || fa.calls.Load() != 2 {
		t.Fatalf("theme=dark alone: status %d, upstream calls %d, /validate calls %d; want 401 from forwardauth", rec.Code, up.calls.Load(), fa.calls.Load())
	}
}

// lowBitsSet is c, the last character of an 86-character base64url
// signature, with its 4 unused low bits set.
func lowBitsSet(c byte) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	return string(alphabet[strings.IndexByte(alphabet, c)|0x0f])
}
