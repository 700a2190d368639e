package e2e

import (
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
// certificate (TLS passthrough, switched on in the harness).
func TestPlexDirectIsPassedThrough(t *testing.T) {
	identity := `machineIdentifier="` + stack.Plex.Hash() + `"`
	for name, addr := range map[string]string{"websecure": stack.WebsecureAddr(), "plex entrypoint": stack.PlexEntrypointAddr()} {
		t.Run(name, func(t *testing.T) {
			seen := len(stack.Plex.Requests())
			port := addr[strings.LastIndex(addr, ":"):]
			resp, body := getIdentity(t, plexDirectClient(addr), "https://"+stack.Plex.PlexDirectName()+port+"/identity")
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, identity) {
				t.Fatalf("status %d body %.200q, want Plex's identity", resp.StatusCode, body)
			}
			if cert := resp.TLS.PeerCertificates[0]; !cert.Equal(stack.Plex.Certificate()) {
				t.Fatalf("served certificate %q issued by %q is not Plex's own", cert.Subject.CommonName, cert.Issuer.CommonName)
			}
			reqs := stack.Plex.Requests()[seen:]
			if len(reqs) != 1 || reqs[0].Path != "/identity" {
				t.Fatalf("Plex saw %+v, want one /identity request", reqs)
			}
		})
	}
}

// The Plex host on 32400 is the same gated door as on 443: the ACME
// certificate, HTTP/1.1 only, the plugin in front of Plex.
func TestPlexHostOn32400IsGated(t *testing.T) {
	session := signIn(t, harness.Alice)
	url := "https://" + harness.PlexHost + stack.PlexEntrypointAddr()[strings.LastIndex(stack.PlexEntrypointAddr(), ":"):] + "/identity"
	client := stack.HTTPClient()
	tests := []struct {
		name   string
		header http.Header
		want   int
	}{
		{"an app without a credential", http.Header{"Accept": {"application/json"}}, http.StatusUnauthorized},
		{"a browser without a session", http.Header{"Accept": {"text/html"}}, http.StatusFound},
		{"a session", withSession(session, http.Header{"Accept": {"application/json"}}), http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := len(stack.Plex.Requests())
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
			req.Header = tt.header
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
			if cert := resp.TLS.PeerCertificates[0]; cert.VerifyHostname(harness.PlexHost) != nil || cert.Equal(stack.Plex.Certificate()) {
				t.Fatalf("served certificate %q is not the ACME one", cert.Subject.CommonName)
			}
			if resp.ProtoMajor != 1 {
				t.Fatalf("negotiated %s on 32400, want HTTP/1.1 only", resp.Proto)
			}
			if reached := plexSaw(seen, "/identity"); reached != (tt.want == http.StatusOK) {
				t.Fatalf("reached Plex: %t", reached)
			}
		})
	}
}
