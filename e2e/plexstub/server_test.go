package plexstub

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

func startStub(t *testing.T) (*Server, string) {
	t.Helper()
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return s, l.Addr().String()
}

func tlsClient(s *Server, addr string) *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(s.CA())
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: s.PlexDirectName()},
	}}
}

func get(t *testing.T, c *http.Client, url string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestOnePortServesPlainHTTPAndTLSWithPlexDirectCertificate(t *testing.T) {
	s, addr := startStub(t)
	tests := []struct {
		name    string
		client  *http.Client
		url     string
		wantTLS bool
	}{
		{"plain", &http.Client{Timeout: 5 * time.Second}, "http://" + addr + "/identity", false},
		{"tls", tlsClient(s, addr), "https://" + addr + "/identity", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, tt.client, tt.url, nil)
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, `machineIdentifier="`+s.Hash()+`"`) {
				t.Fatalf("status %d body %q", resp.StatusCode, body)
			}
			if got := resp.TLS != nil; got != tt.wantTLS {
				t.Fatalf("TLS = %v, want %v", got, tt.wantTLS)
			}
			if tt.wantTLS && !resp.TLS.PeerCertificates[0].Equal(s.Certificate()) {
				t.Fatal("served certificate is not the stand-in's own")
			}
		})
	}
}

func TestWebPageShowsForwardedUserAndIdentityHeaders(t *testing.T) {
	s, addr := startStub(t)
	h := http.Header{"X-Forwarded-User": {"alice@example.com"}, "Remote-Email": {"x@y"}, "Accept": {"text/html"}}
	resp, body := get(t, &http.Client{}, "http://"+addr+"/web/index.html", h)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	for _, want := range []string{`<span id="user">alice@example.com</span>`, `data-name="Remote-Email"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, `data-name="Accept"`) {
		t.Error("page lists Accept as an identity header")
	}
	reqs := s.Requests()
	if len(reqs) != 1 || reqs[0].User != "alice@example.com" || reqs[0].Path != "/web/index.html" {
		t.Fatalf("recorded %+v", reqs)
	}
}

func TestWebRedirectsToIndex(t *testing.T) {
	_, addr := startStub(t)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, _ := get(t, c, "http://"+addr+"/web", nil)
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/web/index.html" {
		t.Fatalf("status %d location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestNotificationWebsocketGreetsWithUserAndEchoes(t *testing.T) {
	_, addr := startStub(t)
	conn, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/:/websockets/notifications", http.Header{"X-Forwarded-User": {"bob"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, hello, err := conn.ReadMessage()
	if err != nil || !strings.Contains(string(hello), `"user":"bob"`) {
		t.Fatalf("hello %q, %v", hello, err)
	}
	if err := conn.WriteMessage(websocket.TextMessage, []byte("ping")); err != nil {
		t.Fatal(err)
	}
	if _, echo, err := conn.ReadMessage(); err != nil || string(echo) != "ping" {
		t.Fatalf("echo %q, %v", echo, err)
	}
}
