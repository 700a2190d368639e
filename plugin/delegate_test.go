package plugin

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDelegationAnswersAreRelayed(t *testing.T) {
	cases := []struct {
		name       string
		answer     func(rw http.ResponseWriter, req *http.Request)
		wantStatus int
		wantHeader map[string]string
		wantBody   string
		wantNext   bool
	}{
		{
			name: "2xx lets the request through and passes Set-Cookie on",
			answer: func(rw http.ResponseWriter, req *http.Request) {
				rw.Header().Add("Set-Cookie", "plexgate_session=new; HttpOnly")
				allowAlice(rw, req)
			},
			wantStatus: http.StatusOK, wantNext: true, wantBody: "plex",
			wantHeader: map[string]string{"Set-Cookie": "plexgate_session=new; HttpOnly"},
		},
		{
			name: "302 to the login page is relayed with Location and Set-Cookie",
			answer: func(rw http.ResponseWriter, req *http.Request) {
				rw.Header().Set("Location", "https://auth.example.com/login?rd=https%3A%2F%2Fplex.example.com%2F")
				rw.Header().Add("Set-Cookie", "plexgate_state=abc; HttpOnly")
				rw.Header().Set("X-Internal", "secret")
				rw.WriteHeader(http.StatusFound)
			},
			wantStatus: http.StatusFound,
			wantHeader: map[string]string{
				"Location":   "https://auth.example.com/login?rd=https%3A%2F%2Fplex.example.com%2F",
				"Set-Cookie": "plexgate_state=abc; HttpOnly", "X-Internal": "",
			},
		},
		{
			name: "relative Location is resolved against ValidateURL",
			answer: func(rw http.ResponseWriter, req *http.Request) {
				rw.Header().Set("Location", "/login?rd=x")
				rw.WriteHeader(http.StatusFound)
			},
			wantStatus: http.StatusFound,
			wantHeader: map[string]string{"Location": "/login?rd=x"}, // prefixed below
		},
		{
			name: "401 is relayed with WWW-Authenticate and body",
			answer: func(rw http.ResponseWriter, req *http.Request) {
				rw.Header().Set("WWW-Authenticate", `Bearer realm="plexgate"`)
				rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
				rw.WriteHeader(http.StatusUnauthorized)
				_, _ = io.WriteString(rw, "sign in first")
			},
			wantStatus: http.StatusUnauthorized, wantBody: "sign in first",
			wantHeader: map[string]string{"Www-Authenticate": `Bearer realm="plexgate"`, "Content-Type": "text/plain; charset=utf-8"},
		},
		{
			name:       "403 is relayed",
			answer:     func(rw http.ResponseWriter, req *http.Request) { http.Error(rw, "forbidden", http.StatusForbidden) },
			wantStatus: http.StatusForbidden, wantBody: "forbidden",
		},
		{
			name: "503 from forwardauth is relayed, never let through",
			answer: func(rw http.ResponseWriter, req *http.Request) {
				http.Error(rw, "provider down", http.StatusServiceUnavailable)
			},
			wantStatus: http.StatusServiceUnavailable, wantBody: "provider down",
		},
		{
			name: "a huge denial body is cut at 16 KiB",
			answer: func(rw http.ResponseWriter, req *http.Request) {
				http.Error(rw, strings.Repeat("x", 1<<20), http.StatusForbidden)
			},
			wantStatus: http.StatusForbidden, wantBody: strings.Repeat("x", maxRelayBodyBytes),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fa := newCompanion(t)
			fa.setAnswer(tc.answer)
			m, up, _ := newTestMiddleware(t, testConfig(fa.validateURL()), newClock())
			rec := serve(m, request(sessionCookie("opaque")))
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d", rec.Code, tc.wantStatus)
			}
			for name, want := range tc.wantHeader {
				if strings.HasPrefix(want, "/") {
					want = fa.srv.URL + want
				}
				if got := rec.Header().Get(name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			if tc.wantBody != "" && bodyOf(rec) != tc.wantBody {
				t.Errorf("body = %.40q (len %d), want %.40q", bodyOf(rec), len(bodyOf(rec)), tc.wantBody)
			}
			if (up.calls == 1) != tc.wantNext {
				t.Errorf("next called %d times, want called=%v", up.calls, tc.wantNext)
			}
		})
	}
}

func TestInvalidCompanionStatusGives503(t *testing.T) {
	for _, status := range []int{99, 600, 999} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go func() { // a raw server: net/http refuses to write such statuses
				conn, err := ln.Accept()
				if err != nil {
					return
				}
				defer conn.Close()
				_, _ = bufio.NewReader(conn).ReadString('\n')
				_, _ = fmt.Fprintf(conn, "HTTP/1.1 %03d Odd\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", status)
			}()
			m, up, logs := newTestMiddleware(t, testConfig("http://"+ln.Addr().String()+"/validate"), newClock())
			rec := serve(m, request(sessionCookie("opaque")))
			if rec.Code != http.StatusServiceUnavailable || up.calls != 0 {
				t.Fatalf("status %d, next calls %d; want 503, 0", rec.Code, up.calls)
			}
			if !strings.Contains(logs.String(), "invalid status") {
				t.Fatalf("not handled as an invalid status:\n%s", logs.String())
			}
		})
	}
}

func TestUnreachableOrSlowCompanionGives503(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL + "/validate"
	closed.Close()
	hang := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-hang }))
	t.Cleanup(func() { close(hang); slow.Close() })

	for name, url := range map[string]string{"unreachable": closedURL, "slower than Timeout": slow.URL} {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(url)
			cfg.Timeout = "100ms"
			m, up, logs := newTestMiddleware(t, cfg, newClock())
			rec := serve(m, request(sessionCookie("opaque")))
			if rec.Code != http.StatusServiceUnavailable || up.calls != 0 {
				t.Fatalf("status %d, next calls %d; want 503, 0", rec.Code, up.calls)
			}
			if bodyOf(rec) != "authentication service unavailable" || !strings.Contains(logs.String(), "forwardauth unreachable") {
				t.Fatalf("body %q, logs:\n%s", bodyOf(rec), logs.String())
			}
		})
	}
}

func TestDelegationDescribesTheRequestNotClientHeaders(t *testing.T) {
	fa := newCompanion(t)
	m, _, _ := newTestMiddleware(t, testConfig(fa.validateURL()), newClock())
	req := httptest.NewRequest(http.MethodPost, "https://plex.example.com/library/sections?X-Plex-Token=abc", nil)
	req.TLS = &tls.ConnectionState{}
	req.RemoteAddr = "[2001:db8::7]:443"
	req.Header.Set("Cookie", "plexgate_session=opaque")
	req.Header.Set("Authorization", "Bearer abc")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Requested-With", "XMLHttpRequest")
	req.Header.Set("User-Agent", "not passed on")
	for _, h := range []string{"X-Forwarded-Host", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Uri", "X-Forwarded-Method"} {
		req.Header.Set(h, "forged")
	}
	serve(m, req)

	got := fa.last()
	if got.Method != http.MethodGet {
		t.Errorf("validate method %s, want GET", got.Method)
	}
	want := map[string]string{
		"X-Forwarded-Method": "POST", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "plex.example.com",
		"X-Forwarded-Uri": "/library/sections?X-Plex-Token=abc", "X-Forwarded-For": "2001:db8::7",
		"Cookie": "plexgate_session=opaque", "Authorization": "Bearer abc", "Accept": "application/json",
		"X-Requested-With": "XMLHttpRequest", "User-Agent": "Go-http-client/1.1",
	}
	for name, value := range want {
		if v := got.Header.Values(name); len(v) != 1 || v[0] != value {
			t.Errorf("%s = %q, want [%q]", name, v, value)
		}
	}
}

func TestClientIdentityHeadersAreAlwaysRemoved(t *testing.T) {
	key := newTestKey(t)
	forged := []string{"X-Forwarded-User", "x-forwarded-user", "X_Forwarded_User", "x_FORWARDED_email", "X-Forwarded-Groups"}
	paths := []struct {
		name    string
		answer  func(rw http.ResponseWriter, req *http.Request)
		cookie  string
		allowed bool // reaches the upstream
	}{
		{"local verification", allowAlice, sessionCookie(edToken(t, key, goodClaims())), true},
		{"delegated allow without identity", func(rw http.ResponseWriter, _ *http.Request) {}, sessionCookie("opaque"), true},
		{"delegated denial", func(rw http.ResponseWriter, _ *http.Request) { rw.WriteHeader(http.StatusUnauthorized) }, sessionCookie("opaque"), false},
		{"no credential", func(rw http.ResponseWriter, _ *http.Request) { rw.WriteHeader(http.StatusUnauthorized) }, "", false},
	}
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			fa := newCompanion(t)
			fa.setAnswer(p.answer)
			cfg := testConfig(fa.validateURL())
			cfg.PublicKeys = key.pem
			m, up, _ := newTestMiddleware(t, cfg, newClock())
			for round := 0; round < 2; round++ { // the second round of an allowed credential is a cache hit
				req := request(p.cookie)
				for _, name := range forged {
					forge(req.Header, name, "mallory")
				}
				serve(m, req)
				if want := map[bool]int{true: round + 1}[p.allowed]; up.calls != want {
					t.Fatalf("round %d: upstream calls %d, want %d", round, up.calls, want)
				}
				for name, v := range up.header {
					if strings.Contains(strings.Join(v, ","), "mallory") {
						t.Fatalf("round %d: forged %s reached the upstream", round, name)
					}
				}
				if last := fa.last(); last != nil && strings.Contains(strings.Join(last.Header.Values("X-Forwarded-User"), ""), "mallory") {
					t.Fatalf("round %d: forged identity sent to forwardauth", round)
				}
			}
		})
	}
}

func TestStrippingKeepsOtherHeaders(t *testing.T) {
	long := "X-" + strings.Repeat("Long", 20) + "-Name" // a long name
	fa := newCompanion(t)
	fa.setAnswer(func(http.ResponseWriter, *http.Request) {}) // allow, no identity
	cfg := testConfig(fa.validateURL())
	cfg.AuthResponseHeaders = []string{"X-Forwarded-User", long}
	m, up, _ := newTestMiddleware(t, cfg, newClock())
	req := request(sessionCookie("opaque"))
	req.Header = http.Header{"Cookie": {"plexgate_session=opaque"}}
	for name, value := range map[string]string{
		"X-Forwarded-Usex": "a", "X_forwarded_user": "b", "Accept": "c", "X-Forwarded-User": "d",
		strings.ReplaceAll(strings.ToLower(long), "-", "_"): "e",
	} {
		forge(req.Header, name, value)
	}
	serve(m, req)
	if len(up.header) != 3 || up.header.Get("Accept") != "c" || up.header.Get("X-Forwarded-Usex") != "a" {
		t.Fatalf("upstream headers: %v", up.header)
	}
}

// A configured identity name is stripped in every spelling a client can
// send, whatever its case and whichever separators it uses; other headers
// that share its length pass untouched.
func TestConfiguredNameIsStrippedInEverySpelling(t *testing.T) {
	fa := newCompanion(t)
	fa.setAnswer(func(http.ResponseWriter, *http.Request) {}) // allow, no identity
	cfg := testConfig(fa.validateURL())
	cfg.AuthResponseHeaders = []string{"X-Forwarded-User", "x_real-ip"}
	m, up, _ := newTestMiddleware(t, cfg, newClock())
	for _, spelling := range []string{"X-Real-Ip", "X_real_ip", "x-real-ip", "X-REAL_IP", "x_Real-IP", "X_REAL_IP"} {
		req := request(sessionCookie("opaque"))
		forge(req.Header, spelling, "203.0.113.9")
		req.Header.Set("X-Real-Ix", "kept")
		serve(m, req)
		for name := range up.header {
			if normalizeHeader(name) == "x-real-ip" {
				t.Fatalf("client-sent %s reached the upstream as %s", spelling, name)
			}
		}
		if up.header.Get("X-Real-Ix") != "kept" {
			t.Fatalf("X-Real-Ix was stripped: %v", up.header)
		}
	}
}
