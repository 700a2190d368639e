package bench

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/plexgate/plexgate/forwardauth/session"
)

func ed25519PEM(t *testing.T) ([]byte, ed25519.PublicKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), pub
}

func TestMintedSessionFollowsTheContract(t *testing.T) {
	keyPEM, pub := ed25519PEM(t)
	m, err := NewMinter(keyPEM, "http://auth.plexgate.localhost")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	m.Now = func() time.Time { return now }
	raw, err := m.Mint(7)
	if err != nil {
		t.Fatal(err)
	}
	claims := jwt.MapClaims{}
	tok, err := jwt.NewParser(jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithIssuer(m.Issuer),
		jwt.WithTimeFunc(func() time.Time { return now })).
		ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return pub, nil })
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if tok.Header["typ"] != "JWT" || tok.Header["kid"] != session.Thumbprint(pub) {
		t.Errorf("header %v: want typ JWT and kid %s", tok.Header, session.Thumbprint(pub))
	}
	hdr, _ := claims["hdr"].(map[string]any)
	checks := map[string]bool{
		"aud is the string plexgate": claims["aud"] == "plexgate",
		"exp is 12h after iat":       claims["exp"].(float64)-claims["iat"].(float64) == 12*3600,
		"nbf equals iat":             claims["nbf"] == claims["iat"],
		"sid is set":                 claims["sid"] != "",
		"hdr carries the user":       hdr["X-Forwarded-User"] == "user7@plexgate.localhost",
		"amr proves mfa":             len(claims["amr"].([]any)) == 2 && claims["amr"].([]any)[1] == "mfa",
	}
	for what, ok := range checks {
		if !ok {
			t.Errorf("%s: claims %v", what, claims)
		}
	}
}

func TestMintManyGivesDistinctSessions(t *testing.T) {
	keyPEM, _ := ed25519PEM(t)
	m, err := NewMinter(keyPEM, "http://auth.plexgate.localhost")
	if err != nil {
		t.Fatal(err)
	}
	toks, err := m.MintMany(1, 50)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, tok := range toks {
		seen[tok] = true
	}
	if len(seen) != 50 {
		t.Errorf("got %d distinct tokens, want 50", len(seen))
	}
}

func TestNewMinterRejectsWhatIsNotAnEd25519Key(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	tests := map[string][]byte{
		"not PEM":        []byte("hello"),
		"broken DER":     pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}}),
		"an ECDSA key":   pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}),
		"an empty input": nil,
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := NewMinter(in, "http://x"); err == nil {
				t.Error("no error")
			}
		})
	}
}
