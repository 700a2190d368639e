package plexstub

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"math/big"
	"time"
)

// certValidity is how long the generated certificates are valid.
const certValidity = 7 * 24 * time.Hour

// certificates holds the stand-in's CA and its *.<hash>.plex.direct leaf.
type certificates struct {
	hash string
	ca   *x509.Certificate
	leaf tls.Certificate
}

// newCertificates makes a CA and a leaf for *.<hash>.plex.direct.
func newCertificates(now time.Time) (*certificates, error) {
	hashBytes := make([]byte, 16)
	if _, err := rand.Read(hashBytes); err != nil {
		return nil, fmt.Errorf("plexstub: hash: %w", err)
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("plexstub: ca key: %w", err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "plexgate stand-in Plex CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certValidity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("plexstub: ca: %w", err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	c := &certificates{hash: hex.EncodeToString(hashBytes), ca: ca}
	if c.leaf, err = newLeaf(now, c.hash, ca, caKey); err != nil {
		return nil, err
	}
	return c, nil
}

func newLeaf(now time.Time, hash string, ca *x509.Certificate, caKey *ecdsa.PrivateKey) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("plexstub: leaf key: %w", err)
	}
	name := "*." + hash + ".plex.direct"
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: name},
		DNSNames:     []string{name},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(certValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("plexstub: leaf: %w", err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}
