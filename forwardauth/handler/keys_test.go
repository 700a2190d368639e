package handler

import (
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/plexgate/plexgate/forwardauth/config"
	"github.com/plexgate/plexgate/forwardauth/session"
)

func jwtDate(t time.Time) *jwt.NumericDate { return jwt.NewNumericDate(t) }

type jwksDoc struct {
	Keys []map[string]string `json:"keys"`
}

func (e *env) jwks() jwksDoc {
	e.t.Helper()
	resp := e.get("https://auth.example.com/.well-known/jwks.json")
	var doc jwksDoc
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		e.t.Fatal(err)
	}
	return doc
}

func TestJWKSKidIsRFC7638Thumbprint(t *testing.T) {
	e := newEnv(t, nil)
	priv, err := session.ReadPrivateKey(e.cfg.Session.SigningKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	x := base64.RawURLEncoding.EncodeToString(priv.Public().(ed25519.PublicKey))
	canonical, _ := json.Marshal(map[string]string{"kty": "OKP", "crv": "Ed25519", "x": x}) // keys sorted
	sum := sha256.Sum256(canonical)
	want := map[string]string{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": base64.RawURLEncoding.EncodeToString(sum[:]), "alg": "EdDSA", "use": "sig"}
	doc := e.jwks()
	if len(doc.Keys) != 1 {
		t.Fatalf("keys: %v", doc.Keys)
	}
	for k, v := range want {
		if doc.Keys[0][k] != v {
			t.Errorf("%s = %q, want %q", k, doc.Keys[0][k], v)
		}
	}
	tok, _, _ := jwt.NewParser().ParseUnverified(e.session().Value, jwt.MapClaims{})
	if tok.Header["kid"] != want["kid"] || tok.Header["alg"] != "EdDSA" || tok.Header["typ"] != "JWT" {
		t.Errorf("token header %v", tok.Header)
	}
}

func TestKeyRotation(t *testing.T) {
	e := newEnv(t, nil)
	old := e.cfg.Session.SigningKeyFile
	oldCookie := e.session()
	pubFile := writePublic(t, e.dir, old)
	rotated := e.cfg
	rotated.Session.SigningKeyFile = writeKey(t, e.dir, "new.pem")
	tests := []struct {
		name   string
		verify []string
		status int
		keys   int
	}{
		{"old private key still listed", []string{old}, http.StatusOK, 2},
		{"old public key still listed", []string{pubFile}, http.StatusOK, 2},
		{"old key removed", nil, http.StatusFound, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := rotated
			cfg.Session.VerificationKeyFiles = tt.verify
			e.srv = e.server(cfg)
			if resp := e.validate(site, nil, oldCookie); resp.StatusCode != tt.status {
				t.Fatalf("old token: status %d, want %d", resp.StatusCode, tt.status)
			}
			doc := e.jwks()
			if len(doc.Keys) != tt.keys || doc.Keys[0]["kid"] != e.srv.keys.SigningKID() {
				t.Errorf("jwks %v: want %d keys, signing key first", doc.Keys, tt.keys)
			}
			if resp := e.validate(site, nil, e.session()); resp.StatusCode != http.StatusOK {
				t.Errorf("new token: %d", resp.StatusCode)
			}
		})
	}
}

func writePublic(t *testing.T, dir, privFile string) string {
	t.Helper()
	priv, err := session.ReadPrivateKey(privFile)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(priv.Public())
	path := filepath.Join(dir, "old.pub.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestHS256Sessions(t *testing.T) {
	secret := "0123456789abcdef0123456789abcdef-shared"
	e := newEnv(t, func(c *config.Config) { c.Session.SigningKeyFile = ""; c.Session.HMACSecret = secret })
	c := e.session()
	tok, _, _ := jwt.NewParser().ParseUnverified(c.Value, jwt.MapClaims{})
	sum := sha256.Sum256([]byte(secret))
	if tok.Header["alg"] != "HS256" || tok.Header["kid"] != base64.RawURLEncoding.EncodeToString(sum[:8]) {
		t.Errorf("header %v", tok.Header)
	}
	if resp := e.validate(site, nil, c); resp.StatusCode != http.StatusOK {
		t.Fatalf("validate: %d", resp.StatusCode)
	}
	if doc := e.jwks(); len(doc.Keys) != 0 {
		t.Errorf("HS256 secret published: %v", doc.Keys)
	}
}

func TestSessionClaimsFollowContract(t *testing.T) {
	e := newEnv(t, nil)
	claims := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(e.session().Value, claims); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"iss", "aud", "sub", "iat", "nbf", "exp", "sid", "email", "name", "groups", "amr", "hdr"} {
		if _, ok := claims[k]; !ok {
			t.Errorf("claim %s missing", k)
		}
	}
	if claims["iss"] != "https://auth.example.com" || claims["aud"] != "plexgate" || claims["iat"] != claims["nbf"] {
		t.Errorf("iss %v aud %v iat %v nbf %v", claims["iss"], claims["aud"], claims["iat"], claims["nbf"])
	}
	hdr, _ := claims["hdr"].(map[string]any)
	if hdr["X-Forwarded-User"] != "alice@example.com" {
		t.Errorf("hdr %v", hdr)
	}
}
