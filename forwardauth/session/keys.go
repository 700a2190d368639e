package main

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
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// verifyKey is one key a session token may be signed with.
type verifyKey struct {
	kid    string
	method jwt.SigningMethod
	key    any // ed25519.PublicKey or []byte
}

// keySet holds the signing key and every accepted verification key, by kid.
type keySet struct {
	signKID    string
	signMethod jwt.SigningMethod
	signKey    any // ed25519.PrivateKey or []byte
	verify     []verifyKey
	byKID      map[string]verifyKey
	methods    []string
}

// loadKeys reads the keys named in cfg; problems name the offending key.
func loadKeys(cfg SessionConfig) (*keySet, error) {
	var p problems
	ks := &keySet{byKID: map[string]verifyKey{}}
	if cfg.SigningKeyFile != "" {
		priv, err := readEd25519Private(cfg.SigningKeyFile)
		if err != nil {
			p.addf("session.signing_key_file", "%v", err)
		} else {
			pub := priv.Public().(ed25519.PublicKey)
			ks.signKID, ks.signMethod, ks.signKey = thumbprint(pub), jwt.SigningMethodEdDSA, priv
			ks.add(verifyKey{kid: ks.signKID, method: jwt.SigningMethodEdDSA, key: pub})
		}
	} else {
		secret, err := secretValue(cfg.HMACSecret, cfg.HMACSecretFile)
		switch {
		case err != nil:
			p.addf("session.hmac_secret_file", "%v", err)
		case len(secret) < minHMACSecret:
			p.addf("session.hmac_secret_file", "secret must be at least %d bytes", minHMACSecret)
		default:
			ks.signKID, ks.signMethod, ks.signKey = hmacKID(secret), jwt.SigningMethodHS256, secret
			ks.add(verifyKey{kid: ks.signKID, method: jwt.SigningMethodHS256, key: secret})
		}
	}
	for _, f := range cfg.VerificationKeyFiles {
		pub, err := readEd25519Public(f)
		if err != nil {
			p.addf("session.verification_key_files", "%v", err)
			continue
		}
		ks.add(verifyKey{kid: thumbprint(pub), method: jwt.SigningMethodEdDSA, key: pub})
	}
	return ks, p.err()
}

func (ks *keySet) add(k verifyKey) {
	if _, dup := ks.byKID[k.kid]; dup {
		return
	}
	ks.byKID[k.kid] = k
	ks.verify = append(ks.verify, k)
	if !contains(ks.methods, k.method.Alg()) {
		ks.methods = append(ks.methods, k.method.Alg())
	}
}

// keyFunc picks the verification key by the token's kid and algorithm.
func (ks *keySet) keyFunc(t *jwt.Token) (any, error) {
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

// jwks returns the JSON Web Key Set of the public verification keys, the
// signing key first. HS256 secrets are never published.
func (ks *keySet) jwks() []byte {
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

// thumbprint is the RFC 7638 JWK thumbprint of an Ed25519 public key.
func thumbprint(pub ed25519.PublicKey) string {
	sum := sha256.Sum256([]byte(`{"crv":"Ed25519","kty":"OKP","x":"` + b64(pub) + `"}`))
	return b64(sum[:])
}

// hmacKID is the first 8 bytes of SHA-256 of the secret, base64url.
func hmacKID(secret []byte) string {
	sum := sha256.Sum256(secret)
	return b64(sum[:8])
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// secretValue returns inline when set, else the trimmed content of file.
func secretValue(inline, file string) ([]byte, error) {
	if inline != "" {
		return []byte(inline), nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return []byte(strings.TrimRight(string(data), "\r\n")), nil
}

func readPEM(path string) (*pem.Block, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block", path)
	}
	return block, nil
}

func readEd25519Private(path string) (ed25519.PrivateKey, error) {
	block, err := readPEM(path)
	if err != nil {
		return nil, err
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	priv, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: not an Ed25519 private key", path)
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
		priv, err := readEd25519Private(path)
		if err != nil {
			return nil, err
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

// genKeyPEM returns a new Ed25519 private key as PKCS#8 PEM.
func genKeyPEM() ([]byte, error) {
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
