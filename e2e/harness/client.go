package harness

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"time"
)

// clientTimeout bounds every request of a harness client.
const clientTimeout = 15 * time.Second

// DialLoopback dials every host name on 127.0.0.1, keeping the port, the way
// challtestsrv and Chromium's host-resolver rules resolve them in the tests.
func DialLoopback(ctx context.Context, network, addr string) (net.Conn, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	return d.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
}

// NewClient returns a client that dials every name on 127.0.0.1, trusts
// only the given roots, does not follow redirects (tests look at them) and
// keeps no cookies.
func NewClient(roots ...*x509.Certificate) *http.Client {
	return &http.Client{
		Timeout: clientTimeout,
		Transport: &http.Transport{
			DialContext:       DialLoopback,
			TLSClientConfig:   TLSConfig("", roots...),
			ForceAttemptHTTP2: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// TLSConfig trusts only roots and sends serverName as SNI (empty: the URL's host).
func TLSConfig(serverName string, roots ...*x509.Certificate) *tls.Config {
	pool := x509.NewCertPool()
	for _, r := range roots {
		pool.AddCert(r)
	}
	return &tls.Config{RootCAs: pool, ServerName: serverName, MinVersion: tls.VersionTLS12}
}
