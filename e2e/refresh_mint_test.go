package e2e

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/plexgate/plexgate/e2e/harness"
)

// identity is a user as forwardauth's session token describes it.
type identity struct {
	sub, email string
	groups     []string
}

// carol is allowed by email only (authz.emails), never through the
// provider: the tests mint her sessions with forwardauth's key.
var (
	carol = identity{sub: "00u-carol", email: "carol@" + harness.Domain}
	alice = identity{sub: "00u-alice", email: harness.Alice.Email, groups: harness.Alice.Groups}
)

// minter signs session tokens as forwardauth does (docs/contract.md) with
// the Ed25519 key in a forwardauth -genkey file.
type minter struct {
	key          ed25519.PrivateKey
	kid          string
	refreshAfter time.Duration // rat − iat
	maxAge       time.Duration // exp − auth_time
	signedIn     time.Time     // auth_time = iat; zero: now
}

func newMinter(t *testing.T, keyFile string, refreshAfter, maxAge time.Duration) *minter {
	t.Helper()
	data, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("%s: no PEM block", keyFile)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	key := k.(ed25519.PrivateKey)
	x := base64.RawURLEncoding.EncodeToString(key.Public().(ed25519.PublicKey))
	sum := sha256.Sum256([]byte(`{"crv":"Ed25519","kty":"OKP","x":"` + x + `"}`))
	return &minter{key: key, kid: base64.RawURLEncoding.EncodeToString(sum[:]), refreshAfter: refreshAfter, maxAge: maxAge}
}

// mint signs a session for id, with MFA, carrying the identity headers
// forwardauth computes at the sign-in.
func (m *minter) mint(t *testing.T, id identity) string {
	t.Helper()
	at := m.signedIn
	if at.IsZero() {
		at = time.Now()
	}
	hdr := map[string]string{"X-Forwarded-User": id.email, "X-Forwarded-Email": id.email}
	if len(id.groups) > 0 {
		hdr["X-Forwarded-Groups"] = id.groups[0]
	}
	claims := jwt.MapClaims{
		"iss": stack.AuthURL(""), "aud": "plexgate", "sub": id.sub, "sid": rand.Text(),
		"auth_time": at.Unix(), "iat": at.Unix(), "nbf": at.Unix(),
		"rat": at.Add(m.refreshAfter).Unix(), "exp": at.Add(m.maxAge).Unix(),
		"email": id.email, "amr": []string{"pwd", "mfa"}, "hdr": hdr,
	}
	if len(id.groups) > 0 {
		claims["groups"] = id.groups
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	tok.Header["kid"] = m.kid
	raw, err := tok.SignedString(m.key)
	if err != nil {
		t.Fatal(err)
	}
	noteSecret("a session token", raw)
	return raw
}
