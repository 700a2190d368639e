// Package session mints and verifies forwardauth's session tokens (JWS
// compact JWTs, EdDSA by default, HS256 optionally; docs/contract.md) and
// its login-state tokens, and holds the keys: the signing key, the keys
// still accepted after a rotation, their RFC 7638 thumbprints (the kid) and
// the JWKS document the plugin fetches.
package session

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/golang-jwt/jwt/v5"

	"github.com/plexgate/plexgate/forwardauth/config"
)

// verifyKey is one key a session token may be signed with.
type verifyKey struct {
	kid    string
	method jwt.SigningMethod
	key    any // ed25519.PublicKey or []byte
}

// Keys holds the signing key and every accepted verification key, by kid.
type Keys struct {
	signKID    string
	signMethod jwt.SigningMethod
	signKey    any // ed25519.PrivateKey or []byte
	verify     []verifyKey
	byKID      map[string]verifyKey
	methods    []string
}

// NewKeys returns keys that sign with priv (EdDSA, kid its RFC 7638
// thumbprint) and accept only tokens signed by it.
func NewKeys(priv ed25519.PrivateKey) *Keys {
	ks := &Keys{byKID: map[string]verifyKey{}}
	ks.signWith(priv)
	return ks
}

func (ks *Keys) signWith(priv ed25519.PrivateKey) {
	pub := priv.Public().(ed25519.PublicKey)
	ks.signKID, ks.signMethod, ks.signKey = Thumbprint(pub), jwt.SigningMethodEdDSA, priv
	ks.add(verifyKey{kid: ks.signKID, method: jwt.SigningMethodEdDSA, key: pub})
}

// LoadKeys reads the keys named in cfg (session.signing_key_file or
// session.hmac_secret(_file), then session.verification_key_files); the
// problems it returns (a *config.Error) name the offending key.
func LoadKeys(cfg config.SessionConfig) (*Keys, error) {
	var p config.Problems
	ks := &Keys{byKID: map[string]verifyKey{}}
	if cfg.SigningKeyFile != "" {
		priv, err := ReadPrivateKey(cfg.SigningKeyFile)
		if err != nil {
			p.Addf("session.signing_key_file", "%v", err)
		} else {
			ks.signWith(priv)
		}
	} else {
		secret, err := config.Secret(cfg.HMACSecret, cfg.HMACSecretFile)
		switch {
		case err != nil:
			p.Addf("session.hmac_secret_file", "%v", err)
		case len(secret) < config.MinHMACSecret:
			p.Addf("session.hmac_secret_file", "secret must be at least %d bytes", config.MinHMACSecret)
		default:
			ks.signKID, ks.signMethod, ks.signKey = hmacKID(secret), jwt.SigningMethodHS256, secret
			ks.add(verifyKey{kid: ks.signKID, method: jwt.SigningMethodHS256, key: secret})
		}
	}
	for _, f := range cfg.VerificationKeyFiles {
		pub, err := readEd25519Public(f)
		if err != nil {
			p.Addf("session.verification_key_files", "%v", err)
			continue
		}
		ks.add(verifyKey{kid: Thumbprint(pub), method: jwt.SigningMethodEdDSA, key: pub})
	}
	return ks, p.Err()
}

func (ks *Keys) add(k verifyKey) {
	if _, dup := ks.byKID[k.kid]; dup {
		return
	}
	ks.byKID[k.kid] = k
	ks.verify = append(ks.verify, k)
	if !slices.Contains(ks.methods, k.method.Alg()) {
		ks.methods = append(ks.methods, k.method.Alg())
	}
}

// keyFunc picks the verification key by the token's kid and algorithm.
func (ks *Keys) keyFunc(t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	k, ok := ks.byKID[kid]
	if !ok {
		return nil, errors.New("session: unknown kid")
	}
	if t.Method.Alg() != k.method.Alg() {
		return nil, errors.New("session: algorithm does not match key")
	}
	return k.key, nil
}

// jwk is one entry of the JWKS document.
type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

// SigningKID is the kid of the signing key.
func (ks *Keys) SigningKID() string { return ks.signKID }

// JWKS returns the JSON Web Key Set of the public verification keys, the
// signing key first. HS256 secrets are never published.
func (ks *Keys) JWKS() []byte {
	doc := struct {
		Keys []jwk `json:"keys"`
	}{Keys: []jwk{}}
	for _, k := range ks.verify {
		pub, ok := k.key.(ed25519.PublicKey)
		if !ok {
			continue
		}
		doc.Keys = append(doc.Keys, jwk{Kty: "OKP", Crv: "Ed25519", X: b64(pub), Kid: k.kid, Alg: "EdDSA", Use: "sig"})
	}
	out, _ := json.Marshal(doc) // plain strings: cannot fail
	return out
}

// Thumbprint is the RFC 7638 JWK thumbprint of an Ed25519 public key, the
// kid of the tokens it verifies.
func Thumbprint(pub ed25519.PublicKey) string {
	sum := sha256.Sum256([]byte(`{"crv":"Ed25519","kty":"OKP","x":"` + b64(pub) + `"}`))
	return b64(sum[:])
}

// hmacKID is the first 8 bytes of SHA-256 of the secret, base64url.
func hmacKID(secret []byte) string {
	sum := sha256.Sum256(secret)
	return b64(sum[:8])
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

var errNoPEM = errors.New("no PEM block")

func readPEM(path string) (*pem.Block, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s: %w", path, errNoPEM)
	}
	return block, nil
}

// ParsePrivateKey parses an Ed25519 private key from PKCS#8 PEM, the form
// forwardauth -genkey prints.
func ParsePrivateKey(pemData []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(pemData)
	if block == nil {
		return nil, errNoPEM
	}
	return parsePrivateDER(block.Bytes)
}

func parsePrivateDER(der []byte) (ed25519.PrivateKey, error) {
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, err
	}
	priv, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, errors.New("not an Ed25519 private key")
	}
	return priv, nil
}

// ReadPrivateKey reads an Ed25519 private key PEM (PKCS#8) from path.
func ReadPrivateKey(path string) (ed25519.PrivateKey, error) {
	block, err := readPEM(path)
	if err != nil {
		return nil, err
	}
	priv, err := parsePrivateDER(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return priv, nil
}

// readEd25519Public accepts a PUBLIC KEY (PKIX) or a PKCS#8 private key PEM.
func readEd25519Public(path string) (ed25519.PublicKey, error) {
	block, err := readPEM(path)
	if err != nil {
		return nil, err
	}
	if block.Type != "PUBLIC KEY" {
		priv, err := parsePrivateDER(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return priv.Public().(ed25519.PublicKey), nil
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	pub, ok := key.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%s: not an Ed25519 public key", path)
	}
	return pub, nil
}

// GenerateKeyPEM returns a new Ed25519 private key as PKCS#8 PEM (what
// forwardauth -genkey prints).
func GenerateKeyPEM() ([]byte, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("genkey: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("genkey: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}
