package e2e

import (
	"crypto/x509"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/plexgate/plexgate/e2e/harness"
)

// plexDirectClient talks TLS to addr with the stand-in's plex.direct name,
// trusting only the stand-in's own CA: it can succeed only when Traefik
// passes the connection through to Plex unopened.
func plexDirectClient(addr string) *http.Client {
	tr := &http.Transport{
		DialContext:     harness.DialLoopback,
		TLSClientConfig: harness.TLSConfig(stack.Plex.PlexDirectName(), stack.Plex.CA()),
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: tr}
}

func getIdentity(t *testing.T, client *http.Client, url string) (*http.Response, string) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// Scenario 4: *.plex.direct on 443 and 32400 reaches Plex's own
// certificate (TLS passthrough); the Plex host on 32400 gets the ACME
// certificate and reaches Plex.
func TestPlexDirectIsPassedThroughAndPlexHostOn32400ReachesPlex(t *testing.T) {
	identity := `machineIdentifier="` + stack.Plex.Hash() + `"`
	tests := []struct {
		name     string
		addr     string
		host     string
		client   *http.Client
		wantCert func(*x509.Certificate) bool
	}{
		{"plex.direct on websecure", stack.WebsecureAddr(), stack.Plex.PlexDirectName(), plexDirectClient(stack.WebsecureAddr()),
			func(c *x509.Certificate) bool { return c.Equal(stack.Plex.Certificate()) }},
		{"plex.direct on plex entrypoint", stack.PlexEntrypointAddr(), stack.Plex.PlexDirectName(), plexDirectClient(stack.PlexEntrypointAddr()),
			func(c *x509.Certificate) bool { return c.Equal(stack.Plex.Certificate()) }},
		{"plex host on plex entrypoint", stack.PlexEntrypointAddr(), harness.PlexHost, stack.HTTPClient(),
			func(c *x509.Certificate) bool {
				return c.VerifyHostname(harness.PlexHost) == nil && !c.Equal(stack.Plex.Certificate())
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := len(stack.Plex.Requests())
			port := tt.addr[strings.LastIndex(tt.addr, ":"):]
			resp, body := getIdentity(t, tt.client, "https://"+tt.host+port+"/identity")
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, identity) {
				t.Fatalf("status %d body %.200q, want Plex's identity", resp.StatusCode, body)
			}
			if cert := resp.TLS.PeerCertificates[0]; !tt.wantCert(cert) {
				t.Fatalf("served certificate %q issued by %q is not the expected one", cert.Subject.CommonName, cert.Issuer.CommonName)
			}
			reqs := stack.Plex.Requests()[seen:]
			if len(reqs) != 1 || reqs[0].Path != "/identity" {
				t.Fatalf("Plex saw %+v, want one /identity request", reqs)
			}
		})
	}
}
