package handler

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// testIDP is a small OpenID provider for tests: discovery, JWKS,
// /authorize (auto-consent), /token with PKCE, /userinfo, end_session.
// Fields change what the next login yields.
type testIDP struct {
	*httptest.Server
	t        testing.TB
	key      *rsa.PrivateKey
	clientID string
	secret   string
	now      func() time.Time

	mu       sync.Mutex
	claims   map[string]any                  // extra ID token claims (email, groups, amr, …)
	userinfo map[string]any                  // extra userinfo claims
	nonce    string                          // when set, replaces the nonce in the ID token
	aud      any                             // when set, replaces aud
	ttl      time.Duration                   // ID token lifetime; negative = already expired
	authErr  string                          // when set, /authorize answers with this error
	atHash   func(accessToken string) string // when set, the ID token's at_hash
	codes    map[string]authCode
	// tokenErr, when set, answers /token instead of the provider.
	tokenErr func(w http.ResponseWriter)
}

type authCode struct {
	nonce, challenge, redirect string
}

func newTestIDP(t testing.TB, now func() time.Time) *testIDP {
	t.Helper()
	return startTestIDP(t, now, httptest.NewServer)
}

// startTestIDP starts the provider with start (httptest.NewServer or NewTLSServer).
func startTestIDP(t testing.TB, now func() time.Time, start func(http.Handler) *httptest.Server) *testIDP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &testIDP{t: t, key: key, clientID: "plexgate-client", secret: "s3cret-client", now: now,
		ttl: time.Hour, codes: map[string]authCode{},
		claims: map[string]any{"email": "alice@example.com", "email_verified": true, "name": "Alice", "groups": []string{"plex-users"}, "amr": []string{"pwd", "mfa"}}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /oauth2/default/.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /oauth2/default/v1/keys", p.jwks)
	mux.HandleFunc("GET /oauth2/default/v1/authorize", p.authorize)
	mux.HandleFunc("POST /oauth2/default/v1/token", p.token)
	mux.HandleFunc("GET /oauth2/default/v1/userinfo", p.userinfoHandler)
	p.Server = start(mux)
	t.Cleanup(p.Close)
	return p
}

func (p *testIDP) issuer() string { return p.URL + "/oauth2/default" }

func (p *testIDP) set(f func(p *testIDP)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(p)
}

func (p *testIDP) discovery(w http.ResponseWriter, _ *http.Request) {
	iss := p.issuer()
	writeJSON(w, map[string]any{
		"issuer": iss, "authorization_endpoint": iss + "/v1/authorize", "token_endpoint": iss + "/v1/token",
		"jwks_uri": iss + "/v1/keys", "userinfo_endpoint": iss + "/v1/userinfo", "end_session_endpoint": iss + "/v1/logout",
		"id_token_signing_alg_values_supported": []string{"RS256"}, "code_challenge_methods_supported": []string{"S256"},
	})
}

func (p *testIDP) jwks(w http.ResponseWriter, _ *http.Request) {
	pub := p.key.PublicKey
	writeJSON(w, map[string]any{"keys": []any{map[string]any{
		"kty": "RSA", "kid": "idp-key", "alg": "RS256", "use": "sig",
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

func (p *testIDP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect, _ := url.Parse(q.Get("redirect_uri"))
	if q.Get("client_id") != p.clientID || redirect == nil || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" {
		http.Error(w, "bad authorize request", http.StatusBadRequest)
		return
	}
	back := url.Values{"state": {q.Get("state")}}
	p.mu.Lock()
	if p.authErr != "" {
		back.Set("error", p.authErr)
	} else {
		code := rand.Text()
		p.codes[code] = authCode{nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), redirect: redirect.String()}
		back.Set("code", code)
	}
	p.mu.Unlock()
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

func (p *testIDP) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tokenErr != nil {
		p.tokenErr(w)
		return
	}
	code, found := p.codes[r.PostFormValue("code")]
	delete(p.codes, r.PostFormValue("code"))
	sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
	if id != p.clientID || secret != p.secret || !found || base64.RawURLEncoding.EncodeToString(sum[:]) != code.challenge ||
		r.PostFormValue("redirect_uri") != code.redirect {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_grant","error_description":"The authorization code is invalid or has expired."}`))
		return
	}
	at := "at-" + rand.Text()
	writeJSON(w, map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": 3600, "id_token": p.idToken(code.nonce, at)})
}

// idToken signs an ID token issued with the access token at under the
// current settings; call with p.mu held.
func (p *testIDP) idToken(nonce, at string) string {
	now := p.now()
	c := jwt.MapClaims{"iss": p.issuer(), "sub": "00u-alice", "aud": p.clientID, "iat": now.Unix(), "exp": now.Add(p.ttl).Unix(), "nonce": nonce}
	if p.nonce != "" {
		c["nonce"] = p.nonce
	}
	if p.aud != nil {
		c["aud"] = p.aud
	}
	for k, v := range p.claims {
		c[k] = v
	}
	if p.atHash != nil {
		c["at_hash"] = p.atHash(at)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	tok.Header["kid"] = "idp-key"
	raw, err := tok.SignedString(p.key)
	if err != nil {
		p.t.Fatal(err)
	}
	return raw
}

func (p *testIDP) userinfoHandler(w http.ResponseWriter, _ *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]any{"sub": "00u-alice"}
	for k, v := range p.userinfo {
		out[k] = v
	}
	writeJSON(w, out)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
