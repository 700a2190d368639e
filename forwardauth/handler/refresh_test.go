package handler

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plexgate/plexgate/forwardauth/config"
	"github.com/plexgate/plexgate/forwardauth/session"
)

// claimsOf verifies a session cookie with the env's server.
func (e *env) claimsOf(c *http.Cookie) *session.Claims {
	e.t.Helper()
	claims, err := e.srv.sessions.Verify(c.Value)
	if err != nil {
		e.t.Fatalf("verify %s: %v", c.Name, err)
	}
	return claims
}

func TestTokenBeforeItsRefreshPointIsAnsweredWithoutACookie(t *testing.T) {
	e := newEnv(t, nil)
	c := e.session()
	claims := e.claimsOf(c)
	if claims.AuthTime == nil || claims.RefreshAt == nil || !claims.RefreshAt.Equal(claims.IssuedAt.Add(15*time.Minute)) ||
		!claims.ExpiresAt.Equal(claims.AuthTime.Add(12*time.Hour)) {
		t.Fatalf("minted dates: auth_time %v, iat %v, rat %v, exp %v", claims.AuthTime, claims.IssuedAt, claims.RefreshAt, claims.ExpiresAt)
	}
	e.clock.advance(14 * time.Minute) // before rat - leeway
	resp := e.validate(site, nil, c)
	if resp.StatusCode != http.StatusOK || cookieNamed(resp, "plexgate_session") != nil {
		t.Fatalf("status %d, Set-Cookie %v; want 200 without a cookie", resp.StatusCode, resp.Header["Set-Cookie"])
	}
}

func TestTokenPastItsRefreshPointIsReissued(t *testing.T) {
	e := newEnv(t, nil)
	c := e.session()
	first := e.claimsOf(c)
	for round := 1; round <= 3; round++ {
		e.clock.advance(15*time.Minute - 30*time.Second) // at rat - leeway
		resp := e.validate(site, nil, c)
		fresh := cookieNamed(resp, "plexgate_session")
		if resp.StatusCode != http.StatusOK || fresh == nil || fresh.Value == c.Value {
			t.Fatalf("round %d: status %d, cookie %v; want 200 with a fresh token", round, resp.StatusCode, fresh)
		}
		if resp.Header.Get("X-Forwarded-User") != "alice@example.com" {
			t.Fatalf("round %d: identity headers missing", round)
		}
		got := e.claimsOf(fresh)
		if got.SID != first.SID || !got.AuthTime.Equal(first.AuthTime.Time) || !got.ExpiresAt.Equal(first.ExpiresAt.Time) ||
			!got.IssuedAt.Equal(e.clock.now()) || !got.RefreshAt.Equal(e.clock.now().Add(15*time.Minute)) {
			t.Fatalf("round %d: refreshed claims sid %s auth_time %v exp %v iat %v rat %v", round, got.SID, got.AuthTime, got.ExpiresAt, got.IssuedAt, got.RefreshAt)
		}
		if fresh.Domain != "example.com" || !fresh.HttpOnly || !fresh.Secure || fresh.MaxAge <= 0 ||
			time.Duration(fresh.MaxAge)*time.Second > first.ExpiresAt.Sub(e.clock.now()) {
			t.Fatalf("round %d: cookie attributes %+v", round, fresh)
		}
		c = fresh
	}
}

func TestRefreshReappliesTheRules(t *testing.T) {
	e := newEnv(t, nil)
	c := e.session()
	stricter := e.cfg
	stricter.Authz.Groups = []string{"admins"}
	e.srv = e.server(stricter)
	e.clock.advance(16 * time.Minute)
	resp := e.validate(site, nil, c)
	if resp.StatusCode != http.StatusForbidden || cookieNamed(resp, "plexgate_session") != nil {
		t.Fatalf("status %d, cookie %v; want 403 and no cookie", resp.StatusCode, cookieNamed(resp, "plexgate_session"))
	}
}

func TestSessionPastMaxAgeSignsInAgain(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.Session.MaxAge, c.Session.RefreshAfter = time.Hour, 20*time.Minute })
	c := e.session()
	for i := 0; i < 2; i++ { // refreshed at 20 and 40 minutes
		e.clock.advance(20 * time.Minute)
		if fresh := cookieNamed(e.validate(site, nil, c), "plexgate_session"); fresh != nil {
			c = fresh
		}
	}
	e.clock.advance(20*time.Minute + 30*time.Second) // one hour and the leeway after the sign-in
	resp := e.validate(site, nil, c)
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(resp.Header.Get("Location"), "https://auth.example.com/login") {
		t.Fatalf("status %d, Location %q; want 302 to the login", resp.StatusCode, resp.Header.Get("Location"))
	}
	// max_age lowered after the sign-in: it counts from auth_time.
	e2 := newEnv(t, nil)
	c = e2.session()
	e2.clock.advance(2 * time.Hour)
	lower := e2.cfg
	lower.Session.MaxAge = time.Hour
	e2.srv = e2.server(lower)
	if resp := e2.validate(site, map[string]string{"Accept": "application/json"}, c); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("lowered max_age: status %d, want 401", resp.StatusCode)
	}
}

func TestDenyListEjectsOneSessionOrSubject(t *testing.T) {
	e := newEnv(t, nil)
	deny := filepath.Join(e.dir, "deny")
	writeDeny(t, deny, "# ejected by the operator\n")
	cfg := e.cfg
	cfg.Session.DenyListFile = deny
	e.srv = e.server(cfg)
	alice, other := e.session(), e.session()
	aliceSID := e.claimsOf(alice).SID
	cases := []struct {
		name       string
		list       string
		wantAlice  int
		wantOther  int
		wantSignIn int
	}{
		{"empty list", "", http.StatusOK, http.StatusOK, http.StatusFound},
		{"one session", "sid " + aliceSID + "\n", http.StatusFound, http.StatusOK, http.StatusFound},
		{"the subject's sessions signed in before a time", "sub 00u-alice " + e.clock.now().Add(time.Second).Format(time.RFC3339) + "\n", http.StatusFound, http.StatusFound, http.StatusFound},
		{"the subject", "sub 00u-alice\n", http.StatusForbidden, http.StatusForbidden, http.StatusForbidden},
		{"a broken file keeps the list before", "sid\n", http.StatusForbidden, http.StatusForbidden, http.StatusForbidden},
	}
	for _, tc := range cases {
		writeDeny(t, deny, tc.list)
		e.clock.advance(time.Second)
		if got := e.validate(site, nil, alice).StatusCode; got != tc.wantAlice {
			t.Fatalf("%s: alice's session: status %d, want %d", tc.name, got, tc.wantAlice)
		}
		if got := e.validate(site, nil, other).StatusCode; got != tc.wantOther {
			t.Fatalf("%s: alice's other session: status %d, want %d", tc.name, got, tc.wantOther)
		}
		if got := e.login(site).StatusCode; got != tc.wantSignIn {
			t.Fatalf("%s: a new sign-in: status %d, want %d", tc.name, got, tc.wantSignIn)
		}
	}
}

func TestBadDenyListFileIsAConfigProblem(t *testing.T) {
	e := newEnv(t, nil)
	cfg := e.cfg
	for name, content := range map[string]string{"unknown kind": "user bob\n", "bad time": "sub bob yesterday\n"} {
		cfg.Session.DenyListFile = writeFile(t, "deny", content)
		_, err := New(cfg, e.srv.log, e.clock.now)
		if err == nil || !strings.Contains(err.Error(), "session.deny_list_file") || !strings.Contains(err.Error(), ":1:") {
			t.Fatalf("%s: err %v, want a problem naming the key and the line", name, err)
		}
	}
	cfg.Session.DenyListFile = filepath.Join(e.dir, "missing")
	if _, err := New(cfg, e.srv.log, e.clock.now); err == nil {
		t.Fatal("missing deny list file accepted")
	}
}

// writeDeny replaces the deny list file, its modification time moved on so
// that a same-size edit within the file system's time granularity is seen.
func writeDeny(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(path); err == nil {
		mod := info.ModTime().Add(time.Second)
		_ = os.Chtimes(path, mod, mod)
	}
}
