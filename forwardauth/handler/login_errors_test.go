package handler

import (
	"bytes"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const loginAgainLink = `href="https://auth.example.com/login?rd=https%3A%2F%2Fplex.example.com%2Fweb%2Findex.html"`

// withQuery returns cb with key set to value.
func withQuery(cb *url.URL, key, value string) *url.URL {
	u := *cb
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return &u
}

func TestCallbackFaultsOfTheRequestAnswer400WithSignInAgain(t *testing.T) {
	tests := []struct {
		name string
		// callback returns the callback URL to send with the login's state cookie.
		callback func(e *env, cb *url.URL) *url.URL
	}{
		{"garbage code", func(_ *env, cb *url.URL) *url.URL { return withQuery(cb, "code", "not-a-code-anyone-issued") }},
		{"code already used", func(e *env, cb *url.URL) *url.URL {
			first, firstState := e.startLogin(site)
			used := e.authorize(first)
			if resp := e.get(used.String(), firstState); resp.StatusCode != http.StatusFound {
				e.t.Fatalf("first login: status %d", resp.StatusCode)
			}
			return withQuery(cb, "code", used.Query().Get("code"))
		}},
		{"missing code", func(_ *env, cb *url.URL) *url.URL {
			u := *cb
			u.RawQuery = "state=" + cb.Query().Get("state")
			return &u
		}},
		{"invalid_request", func(e *env, cb *url.URL) *url.URL {
			e.idp.set(func(p *testIDP) { p.tokenErr = oauthError(http.StatusBadRequest, `{"error":"invalid_request"}`) })
			return cb
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			authURL, state := e.startLogin(site)
			cb := tt.callback(e, e.authorize(authURL))
			resp := e.get(cb.String(), state)
			page := body(resp)
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", resp.StatusCode, page)
			}
			if !strings.Contains(page, "Sign in again") || !strings.Contains(page, loginAgainLink) {
				t.Errorf("page does not link to a new login back to the site:\n%s", page)
			}
			if cookieNamed(resp, "plexgate_session") != nil {
				t.Error("a session cookie was set")
			}
		})
	}
}

// oauthError answers with status and body as JSON.
func oauthError(status int, body string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

func TestCallbackProviderFaultsAnswer502(t *testing.T) {
	tests := []struct {
		name  string
		fault func(http.ResponseWriter)
	}{
		{"500 page", func(w http.ResponseWriter) {
			http.Error(w, "<html>Internal Server Error</html>", http.StatusInternalServerError)
		}},
		{"503 with an OAuth error", oauthError(http.StatusServiceUnavailable, `{"error":"temporarily_unavailable"}`)},
		{"malformed JSON", oauthError(http.StatusOK, `{"access_token": "at", "token_type":`)},
		{"no id_token", oauthError(http.StatusOK, `{"access_token":"at","token_type":"Bearer","expires_in":3600}`)},
		{"400 without an error member", oauthError(http.StatusBadRequest, `{"message":"bad"}`)},
		{"500 with an OAuth error body", oauthError(http.StatusInternalServerError, `{"error":"invalid_grant"}`)},
		{"client refused", oauthError(http.StatusUnauthorized, `{"error":"invalid_client","error_description":"Client authentication failed."}`)},
		{"connection dropped", func(w http.ResponseWriter) {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				_ = conn.(*net.TCPConn).SetLinger(0)
				conn.Close()
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			authURL, state := e.startLogin(site)
			cb := e.authorize(authURL)
			e.idp.set(func(p *testIDP) { p.tokenErr = tt.fault })
			resp := e.get(cb.String(), state)
			if resp.StatusCode != http.StatusBadGateway {
				t.Fatalf("status %d, want 502: %s", resp.StatusCode, body(resp))
			}
			if cookieNamed(resp, "plexgate_session") != nil {
				t.Error("a session cookie was set")
			}
		})
	}
}

// logTo rebuilds e's server with a logger writing to buf, without times.
func logTo(e *env, buf *bytes.Buffer) {
	e.t.Helper()
	noTime := func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}
	srv, err := New(e.cfg, slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{ReplaceAttr: noTime})), e.clock.now)
	if err != nil {
		e.t.Fatal(err)
	}
	e.srv = srv
}

func TestCallbackBoundsQueryValuesInLogsAndPages(t *testing.T) {
	e := newEnv(t, nil)
	var logs bytes.Buffer
	logTo(e, &logs)
	huge := strings.Repeat("é<script>alert(1)</script>\n", 60<<10/28)
	forged := "\nlevel=ERROR msg=\"forged line\"\r\n"
	q := url.Values{"error": {"access_denied" + forged + huge}, "error_description": {forged + huge}, "state": {huge}}
	for _, target := range []string{"/auth?" + q.Encode(), "/auth?state=" + url.QueryEscape(huge+forged) + "&code=x"} {
		logs.Reset()
		resp := e.get("https://auth.example.com" + target)
		page := body(resp)
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("status %d, want 400", resp.StatusCode)
		}
		if len(page) > 2000 || strings.Contains(page, "<script>") {
			t.Errorf("page of %d bytes, or with the query's markup:\n%.3000s", len(page), page)
		}
		lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
		for _, line := range lines {
			if len(line) > 1000 || !strings.HasPrefix(line, "level=INFO ") {
				t.Errorf("log line of %d bytes, or not one of forwardauth's: %.300q", len(line), line)
			}
		}
		if len(lines) != 1 {
			t.Errorf("%d log lines, want 1:\n%.2000s", len(lines), logs.String())
		}
	}
}

func TestProviderErrorIsShownAndLoggedWithItsDescription(t *testing.T) {
	e := newEnv(t, nil)
	var logs bytes.Buffer
	logTo(e, &logs)
	e.idp.set(func(p *testIDP) { p.authErr = "invalid_scope" })
	authURL, state := e.startLogin(site)
	cb := withQuery(e.authorize(authURL), "error_description", "One or more scopes are not configured for the authorization server resource.")
	resp := e.get(cb.String(), state)
	page := body(resp)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", resp.StatusCode)
	}
	for _, want := range []string{"One or more scopes are not configured for the authorization server resource.",
		"openid, profile, email, groups", "oidc.scopes", loginAgainLink} {
		if !strings.Contains(page, want) {
			t.Errorf("page does not say %q:\n%s", want, page)
		}
	}
	for _, want := range []string{`error=invalid_scope`, `error_description="One or more scopes are not configured`,
		`requested_scopes="openid profile email groups"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log does not say %s:\n%s", want, logs.String())
		}
	}
}

func TestRefusedCodeIsLoggedWithTheProvidersDescription(t *testing.T) {
	e := newEnv(t, nil)
	var logs bytes.Buffer
	logTo(e, &logs)
	authURL, state := e.startLogin(site)
	resp := e.get(withQuery(e.authorize(authURL), "code", "garbage").String(), state)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d, want 400", resp.StatusCode)
	}
	if want := `error=invalid_grant error_description="The authorization code is invalid or has expired."`; !strings.Contains(logs.String(), want) {
		t.Errorf("log does not say %s:\n%s", want, logs.String())
	}
}
