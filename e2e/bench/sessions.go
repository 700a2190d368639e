package bench

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
	"time"

	"github.com/plexgate/plexgate/e2e/harness"
	"github.com/plexgate/plexgate/forwardauth/config"
	"github.com/plexgate/plexgate/forwardauth/session"
)

// Minter mints session tokens with forwardauth's own code
// (forwardauth/session, docs/contract.md): EdDSA, typ JWT, kid the RFC 7638
// thumbprint, the contract's claims.
type Minter struct {
	key  ed25519.PrivateKey
	keys *session.Keys
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
	key, err := session.ParsePrivateKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("bench: signing key: %w", err)
	}
	return &Minter{key: key, keys: session.NewKeys(key), Issuer: issuer,
		Audience: "plexgate", Lifetime: 12 * time.Hour}, nil
}

// PublicKeyPEM is the public key as a PEM "PUBLIC KEY" block, the form the
// plugin's PublicKeys setting takes.
func (m *Minter) PublicKeyPEM() string {
	der, _ := x509.MarshalPKIXPublicKey(m.key.Public()) // Ed25519: cannot fail
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// sessions is forwardauth's minter for the Minter's current settings.
func (m *Minter) sessions() *session.Sessions {
	cfg := config.Default().Session
	cfg.Audience, cfg.MaxAge = m.Audience, m.Lifetime
	return session.NewSessions(m.keys, cfg, m.Issuer, m.Now)
}

// Mint signs a session for user number n of the allowed group, with MFA,
// carrying the identity headers forwardauth would compute for it.
func (m *Minter) Mint(n int) (string, error) {
	return mint(m.sessions(), n)
}

func mint(s *session.Sessions, n int) (string, error) {
	return mintFor(s, fmt.Sprintf("bench-%d", n), fmt.Sprintf("user%d@%s", n, harness.Domain),
		fmt.Sprintf("Bench User %d", n), []string{harness.AllowedGroup}, []string{"pwd", "mfa"})
}

// MintFor signs a session for the identity given, as forwardauth would
// have minted it at a login that its rules allowed.
func (m *Minter) MintFor(sub, email, name string, groups, amr []string) (string, error) {
	return mintFor(m.sessions(), sub, email, name, groups, amr)
}

func mintFor(s *session.Sessions, sub, email, name string, groups, amr []string) (string, error) {
	raw, err := s.Mint(session.Identity{
		Subject: sub, Email: email, Name: name, Groups: groups, AMR: amr,
		Headers: map[string]string{
			"X-Forwarded-User": email, "X-Forwarded-Email": email, "X-Forwarded-Groups": strings.Join(groups, ","),
		},
	})
	if err != nil {
		return "", fmt.Errorf("bench: mint: %w", err)
	}
	return raw, nil
}

// MintMany mints n sessions for users first … first+n−1.
func (m *Minter) MintMany(first, n int) ([]string, error) {
	s := m.sessions()
	out := make([]string, n)
	for i := range out {
		var err error
		if out[i], err = mint(s, first+i); err != nil {
			return nil, err
		}
	}
	return out, nil
}
