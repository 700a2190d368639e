package plugin

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"testing"
)

// The hit path deletes a precomputed list of spellings instead of looking
// at every request header; these tests hold that list to what clients can
// actually send.

// randomSpelling writes name with a random case for every letter and a
// random "-" or "_" at every separator.
func randomSpelling(r *rand.Rand, name string) string {
	b := []byte(name)
	for i, c := range b {
		switch {
		case c == '-' || c == '_':
			b[i] = "-_"[r.Intn(2)]
		case r.Intn(2) == 0:
			b[i] = strings.ToUpper(string(c))[0]
		default:
			b[i] = strings.ToLower(string(c))[0]
		}
	}
	return string(b)
}

func TestSpellingsCoverEveryClientForm(t *testing.T) {
	names := []string{"X-Forwarded-User", "X-Forwarded-Email", "X-Forwarded-Groups", "Remote-User", "X_Auth-Request_Preferred-Username", "Nosep"}
	ih := newIdentityHeaders(names)
	listed := make(map[string]bool)
	for _, s := range ih.spellings {
		if listed[s] {
			t.Fatalf("%s listed twice", s)
		}
		listed[s] = true
	}
	if want := 4 + 4 + 4 + 2 + 16 + 1; len(listed) != want {
		t.Fatalf("%d spellings, want %d: %v", len(listed), want, ih.spellings)
	}
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 20000; i++ {
		name := names[r.Intn(len(names))]
		sent := randomSpelling(r, name)
		if key := textproto.CanonicalMIMEHeaderKey(sent); !listed[key] {
			t.Fatalf("a client sending %q reaches the plugin as %q, which is not stripped", sent, key)
		}
	}
	configured := make(map[string]bool)
	for _, name := range names {
		configured[normalizeHeader(name)] = true
	}
	for s := range listed {
		if !configured[normalizeHeader(s)] || textproto.CanonicalMIMEHeaderKey(s) != s {
			t.Fatalf("%s is not a canonical spelling of a configured name", s)
		}
	}
}

// TestServerCanonicalizesEverySpelling sends forged identity headers in
// every case and separator mix over the wire, through Go's own HTTP/1.1 and
// HTTP/2 servers (Traefik's), so that the spellings list is checked against
// what a real server hands to a middleware, not against a model of it.
func TestServerCanonicalizesEverySpelling(t *testing.T) {
	fa := newCompanion(t)
	fa.setAnswer(allowAlice)
	m, up, _ := newTestMiddleware(t, testConfig(fa.validateURL()), newClock())
	srv := httptest.NewUnstartedServer(m)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()

	r := rand.New(rand.NewSource(2))
	var forged []string
	for _, name := range []string{"X-Forwarded-User", "X-Forwarded-Email", "X-Forwarded-Groups"} {
		forged = append(forged, strings.ToLower(name), strings.ToUpper(name), strings.ReplaceAll(name, "-", "_"))
		for i := 0; i < 8; i++ {
			forged = append(forged, randomSpelling(r, name))
		}
	}
	check := func(t *testing.T, proto string) {
		t.Helper()
		up.mu.Lock()
		defer up.mu.Unlock()
		if up.calls == 0 {
			t.Fatalf("%s: the request did not reach the upstream", proto)
		}
		for name, v := range up.header {
			if strings.Contains(strings.Join(v, ","), "mallory") {
				t.Fatalf("%s: forged %s reached the upstream", proto, name)
			}
		}
		if got := up.header.Get("X-Forwarded-User"); got != "alice@example.com" {
			t.Fatalf("%s: X-Forwarded-User %q", proto, got)
		}
	}

	t.Run("HTTP/1.1 written by hand", func(t *testing.T) {
		for round := 0; round < 2; round++ { // the second is a cache hit
			conn, err := tls.Dial("tcp", srv.Listener.Addr().String(), &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
			if err != nil {
				t.Fatal(err)
			}
			var raw strings.Builder
			raw.WriteString("GET /web HTTP/1.1\r\nHost: plex.example.com\r\nCookie: plexgate_session=opaque\r\nConnection: close\r\n")
			for _, name := range forged {
				fmt.Fprintf(&raw, "%s: mallory\r\n", name)
			}
			raw.WriteString("\r\n")
			if _, err := conn.Write([]byte(raw.String())); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			_ = conn.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			check(t, "HTTP/1.1")
		}
	})
	t.Run("HTTP/2", func(t *testing.T) {
		client := srv.Client()
		for round := 0; round < 2; round++ {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/web", nil)
			req.Header["Cookie"] = []string{"plexgate_session=opaque"}
			for _, name := range forged {
				req.Header[name] = []string{"mallory"} // sent as written (lower-cased by HTTP/2)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.ProtoMajor != 2 || resp.StatusCode != http.StatusOK {
				t.Fatalf("%s status %d", resp.Proto, resp.StatusCode)
			}
			check(t, "HTTP/2")
		}
	})
}
