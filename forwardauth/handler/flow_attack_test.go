package handler

import (
	"bufio"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// hostileReturnURLs are return URLs that must never be followed; they add
// to TestReturnURLCheck's table and are tried on every endpoint taking rd.
var hostileReturnURLs = []string{
	"//evil.example/", "/\\evil.example", "\\\\evil.example", "https:evil.example", "https:///evil.example",
	"HtTpS://evil.example/", "https://evil.example/.example.com", "https://evil.example?.example.com",
	"https://evil.example;.example.com", "https://plex.example.com:443@evil.example/",
	"https://plex.example.com%40evil.example/", "https://plex.example.com%2F@evil.example/",
	"https://evil.example%2523.example.com/", "https%253A%252F%252Fevil.example", "https://evil.example%00.example.com/",
	"https://plex.example.com\t/", "\thttps://plex.example.com/", "https://plex.example.com/\n", "https://evil.example\u2215.example.com/",
	"https://plex\u3002example\u3002com/", "https://plex\uff0eexample\uff0ecom/", "https://\u0435xample.com/",
	"https://xn--plx-hoa.example.com.evil.example/", "https://127.0.0.1/", "https://0x7f000001/", "https://[::ffff:7f00:1]/",
	"vbscript:msgbox(1)//.example.com", "file:///etc/passwd", "https://plex.example.com/" + strings.Repeat("a", 5000),
}

func TestHostileReturnURLsAreRefusedEverywhere(t *testing.T) {
	e := newEnv(t, nil)
	for _, ok := range []string{site, "https://plex.example.com/%0d%0aSet-Cookie:%20x=y"} {
		if resp := e.get("https://auth.example.com/login?rd=" + url.QueryEscape(ok)); resp.StatusCode != http.StatusFound {
			t.Fatalf("control %q: /login status %d", ok, resp.StatusCode)
		}
	}
	for _, rd := range hostileReturnURLs {
		name := rd
		if len(name) > 60 {
			name = name[:60]
		}
		t.Run(name, func(t *testing.T) {
			if _, err := e.srv.redirects.check(rd); err == nil {
				t.Fatal("check accepted it")
			}
			for _, ep := range []string{"/login", "/logout"} {
				resp := e.get("https://auth.example.com" + ep + "?rd=" + url.QueryEscape(rd))
				if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
					t.Fatalf("%s: status %d, Location %q, want 400", ep, resp.StatusCode, resp.Header.Get("Location"))
				}
				if ep == "/login" && len(resp.Cookies()) != 0 {
					t.Fatalf("/login set cookies for a refused return URL")
				}
			}
		})
	}
}

func TestEncodedCRLFInReturnURLStaysEncoded(t *testing.T) {
	e := newEnv(t, nil)
	rd := "https://plex.example.com/%0d%0aSet-Cookie:%20x=y"
	resp := e.login(rd)
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != rd {
		t.Fatalf("status %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if cookieNamed(resp, "x") != nil {
		t.Fatal("header injected through the return URL")
	}
}

func TestReplayedCodeIsRejected(t *testing.T) {
	e := newEnv(t, nil)
	authURL, state := e.startLogin(site)
	cb := e.authorize(authURL)
	if resp := e.get(cb.String(), state); resp.StatusCode != http.StatusFound {
		t.Fatalf("first callback: %d", resp.StatusCode)
	}
	// The code is replayed with a fresh, valid login attempt of its own.
	authURL2, state2 := e.startLogin(site)
	q := cb.Query()
	q.Set("state", authURL2.Query().Get("state"))
	cb.RawQuery = q.Encode()
	resp := e.get(cb.String(), state2)
	if resp.StatusCode == http.StatusFound || cookieNamed(resp, "plexgate_session") != nil {
		t.Fatalf("replayed code: status %d, session set", resp.StatusCode)
	}
}

func TestSessionCookieSetBeforeLoginIsReplaced(t *testing.T) {
	e := newEnv(t, nil)
	f := newForger(t, e)
	planted := []*http.Cookie{
		sessionOf(f.ed(f.header(), with(f.claims(), "sub", "00u-mallory", "sid", "fixed"), f.priv)), // an attacker's own valid session
		sessionOf("attacker-chosen-value"),
	}
	for _, p := range planted {
		authURL, state := e.startLogin(site)
		resp := e.get(e.authorize(authURL).String(), state, p)
		c := cookieNamed(resp, "plexgate_session")
		if resp.StatusCode != http.StatusFound || c == nil || c.Value == p.Value {
			t.Fatalf("login with a planted session: status %d, cookie replaced: %v", resp.StatusCode, c != nil && c.Value != p.Value)
		}
		claims, err := e.srv.sessions.Verify(c.Value)
		if err != nil || claims.Subject != "00u-alice" || claims.SID == "fixed" {
			t.Fatalf("new session: %+v, %v", claims, err)
		}
	}
}

// rawRequest sends a hand-written request to addr and returns the status line.
func rawRequest(t *testing.T, addr, req string) string {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	return strings.TrimSpace(line)
}

func TestHugeOrNumerousHeadersGetClean4xx(t *testing.T) {
	e := newEnv(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := NewHTTPServer(ln.Addr().String(), e.srv)
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close() })
	head := "GET /validate HTTP/1.1\r\nHost: auth.example.com\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: plex.example.com\r\nX-Forwarded-Uri: /\r\n"
	many := strings.Repeat("Cookie: plexgate_session=AAAA.BBBB.CCCC\r\n", 1000)
	tests := []struct {
		name, extra, want string
	}{
		{"control: a normal request", "", "HTTP/1.1 302 Found"},
		{"one 100 KB cookie", "Cookie: plexgate_session=" + strings.Repeat("A", 100<<10) + "\r\n", "HTTP/1.1 431 Request Header Fields Too Large"},
		{"1000 cookie lines", many, "HTTP/1.1 302 Found"},
		{"3000 headers", strings.Repeat("X-A: b\r\n", 3000), "HTTP/1.1 302 Found"},
		{"10000 headers", strings.Repeat("X-A: bbbbbbbb\r\n", 10000), "HTTP/1.1 431 Request Header Fields Too Large"},
		{"a 60 KB bearer token", "Authorization: Bearer " + strings.Repeat("A", 60<<10) + "\r\n", "HTTP/1.1 401 Unauthorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rawRequest(t, ln.Addr().String(), head+tt.extra+"Connection: close\r\n\r\n"); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}
