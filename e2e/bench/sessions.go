package bench

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/plexgate/plexgate/e2e/harness"
)

// Minter mints session tokens the way forwardauth does (docs/contract.md):
// EdDSA, typ JWT, kid the RFC 7638 thumbprint, the contract's claims.
type Minter struct {
	key ed25519.PrivateKey
	kid string
	// Issuer is the tokens' iss (forwardauth's public URL).
	Issuer string
	// Audience is the tokens' aud. Default "plexgate" (set by NewMinter).
	Audience string
	// Lifetime is exp − iat. Default 12h, forwardauth's session.max_age.
	Lifetime time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// NewMinter reads the PKCS#8 PEM that forwardauth -genkey prints.
func NewMinter(keyPEM []byte, issuer string) (*Minter, error) {
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, errors.New("bench: signing key: no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("bench: signing key: %w", err)
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("bench: signing key: %T is not Ed25519", k)
	}
	return &Minter{key: key, kid: thumbprint(key.Public().(ed25519.PublicKey)), Issuer: issuer,
		Audience: "plexgate", Lifetime: 12 * time.Hour}, nil
}

// thumbprint is the RFC 7638 JWK thumbprint of an Ed25519 public key.
func thumbprint(pub ed25519.PublicKey) string {
	x := base64.RawURLEncoding.EncodeToString(pub)
	sum := sha256.Sum256([]byte(`{"crv":"Ed25519","kty":"OKP","x":"` + x + `"}`))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// PublicKeyPEM is the public key as a PEM "PUBLIC KEY" block, the form the
// plugin's PublicKeys setting takes.
func (m *Minter) PublicKeyPEM() string {
	der, _ := x509.MarshalPKIXPublicKey(m.key.Public()) // Ed25519: cannot fail
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// Mint signs a session for user number n of the allowed group, with MFA,
// carrying the identity headers forwardauth would compute for it.
func (m *Minter) Mint(n int) (string, error) {
	return m.MintFor(fmt.Sprintf("bench-%d", n), fmt.Sprintf("user%d@%s", n, harness.Domain),
		fmt.Sprintf("Bench User %d", n), []string{harness.AllowedGroup}, []string{"pwd", "mfa"})
}

// MintFor signs a session for the identity given, as forwardauth would
// have minted it at a login that its rules allowed.
func (m *Minter) MintFor(sub, email, name string, groups, amr []string) (string, error) {
	now := time.Now
	if m.Now != nil {
		now = m.Now
	}
	t := now()
	claims := jwt.MapClaims{
		"iss": m.Issuer, "aud": m.Audience, "sub": sub,
		"iat": t.Unix(), "nbf": t.Unix(), "exp": t.Add(m.Lifetime).Unix(),
		"sid": rand.Text(), "email": email, "name": name,
		"groups": groups, "amr": amr,
		"hdr": map[string]string{
			"X-Forwarded-User": email, "X-Forwarded-Email": email, "X-Forwarded-Groups": strings.Join(groups, ","),
		},
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	tok.Header["kid"] = m.kid
	raw, err := tok.SignedString(m.key)
	if err != nil {
		return "", fmt.Errorf("bench: mint: %w", err)
	}
	return raw, nil
}

// MintMany mints n sessions for users first … first+n−1.
func (m *Minter) MintMany(first, n int) ([]string, error) {
	out := make([]string, n)
	for i := range out {
		var err error
		if out[i], err = m.Mint(first + i); err != nil {
			return nil, err
		}
	}
	return out, nil
}
