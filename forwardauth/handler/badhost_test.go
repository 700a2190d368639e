package handler

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A 400 from /validate is logged with the host and the fix, once per host
// per minute, and never with the request's URI (Plex apps put tokens there).
func TestValidate400IsLoggedOncePerHostPerMinute(t *testing.T) {
	e := newEnv(t, nil)
	var logs bytes.Buffer
	e.srv.log = slog.New(slog.NewTextHandler(&logs, nil))
	lines := func() int { return strings.Count(logs.String(), "not on an allowed domain") }
	bad := func(host string) {
		t.Helper()
		resp := e.validate("https://"+host+"/library?X-Plex-Token=secret-token-value", nil)
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("%s: status %d, want 400", host, resp.StatusCode)
		}
	}

	bad("plex.other.net")
	bad("plex.other.net")
	if n := lines(); n != 1 {
		t.Fatalf("two 400s for one host within a minute logged %d lines, want 1:\n%s", n, logs.String())
	}
	for _, want := range []string{"host=plex.other.net", "session.cookie_domain", "redirect.allowed_domains", "allowed="} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log line lacks %q:\n%s", want, logs.String())
		}
	}
	if strings.Contains(logs.String(), "secret-token-value") || strings.Contains(logs.String(), "/library") {
		t.Errorf("the log line carries the request URI:\n%s", logs.String())
	}
	bad("tv.other.net")
	if n := lines(); n != 2 {
		t.Errorf("a second host logged %d lines in all, want 2", n)
	}
	e.clock.advance(time.Minute)
	bad("plex.other.net")
	if n := lines(); n != 3 {
		t.Errorf("a minute later the host logged %d lines in all, want 3", n)
	}
	if resp := e.validate("https://plex.example.com/", nil); resp.StatusCode == http.StatusBadRequest {
		t.Fatalf("an allowed host got 400")
	}
	if n := lines(); n != 3 {
		t.Errorf("an allowed host was logged as a 400")
	}
}

// The limiter remembers a bounded number of hosts, so client-chosen hosts
// cannot grow it; expired entries make room again.
func TestHostLimiterIsBounded(t *testing.T) {
	h := newHostLimiter(time.Minute, 2)
	t0 := time.Unix(1_700_000_000, 0)
	if !h.allow("a", t0) || !h.allow("b", t0) {
		t.Fatal("first events of two hosts refused")
	}
	if h.allow("c", t0) {
		t.Error("a third host was logged beyond the bound")
	}
	if len(h.last) != 2 {
		t.Errorf("limiter holds %d hosts, want 2", len(h.last))
	}
	if !h.allow("c", t0.Add(time.Minute)) {
		t.Error("after the interval, expired hosts did not make room")
	}
}
