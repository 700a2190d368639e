package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plexgate/plexgate/e2e/harness"
)

// Soak: a fixed-rate mix of credentials through the real Traefik, every
// answer checked against what its credential deserves. make test runs it
// for defaultSoakTime; make soak sets PLEXGATE_SOAKTIME (default 3m).
const (
	defaultSoakTime = 20 * time.Second
	soakRate        = 50 // requests per second
	soakConcurrency = 32 // requests in flight at most
)

// soakCase is one kind of request and the answer it must get.
type soakCase struct {
	name  string
	build func(n int64) *http.Request
	ok    func(status int, h http.Header, body string) bool
}

func soakCases(t *testing.T, session string) []soakCase {
	page := stack.PlexURL("/web/index.html")
	login := stack.AuthURL("/login?rd=")
	newReq := func(h http.Header) *http.Request {
		req, err := http.NewRequest(http.MethodGet, page, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header = h
		return req
	}
	cookie := func(v string) string { return harness.CookieName + "=" + v }
	tampered := session[:len(session)-2] + flipB64(session[len(session)-2]) + session[len(session)-1:]
	alice := func(status int, _ http.Header, body string) bool {
		return status == http.StatusOK && strings.Contains(body, harness.Alice.Email) && !strings.Contains(body, "mallory")
	}
	toLogin := func(status int, h http.Header, body string) bool {
		return status == http.StatusFound && strings.HasPrefix(h.Get("Location"), login) && !strings.Contains(body, "mallory")
	}
	return append([]soakCase{
		{"valid session", func(int64) *http.Request { return newReq(http.Header{"Cookie": {cookie(session)}}) }, alice},
		{"valid session with forged identity", func(int64) *http.Request {
			return newReq(http.Header{"Cookie": {cookie(session)}, "X-Forwarded-User": {"mallory"}, "X_Forwarded_Email": {"mallory@evil"}})
		}, alice},
		{"valid bearer token from an API client", func(int64) *http.Request {
			return newReq(http.Header{"Authorization": {"Bearer " + session}, "Accept": {"application/json"}})
		}, alice},
		{"no credential, browser", func(int64) *http.Request { return newReq(http.Header{"Accept": {"text/html"}}) }, toLogin},
		{"no credential, API", func(int64) *http.Request { return newReq(http.Header{"Accept": {"application/json"}}) },
			func(status int, _ http.Header, _ string) bool { return status == http.StatusUnauthorized }},
		{"tampered signature", func(int64) *http.Request { return newReq(http.Header{"Cookie": {cookie(tampered)}}) }, toLogin},
		{"a new garbage token each time", func(n int64) *http.Request {
			return newReq(http.Header{"Cookie": {cookie("garbage-" + strconv.FormatInt(n, 10))}})
		}, toLogin},
		{"forged identity, no credential", func(int64) *http.Request {
			return newReq(http.Header{"X-Forwarded-User": {"mallory"}, "Accept": {"text/html"}})
		}, toLogin},
	}, plexSoakCases(t)...)
}

// plexSoakCases are Plex apps' requests: the owner's token in the header
// and in the query (with a forged identity), and tokens that must be
// refused without a redirect.
func plexSoakCases(t *testing.T) []soakCase {
	a := stack.PlexAccounts
	page := stack.PlexURL("/web/index.html")
	newReq := func(query string, h http.Header) *http.Request {
		req, err := http.NewRequest(http.MethodGet, page+query, nil)
		if err != nil {
			t.Fatal(err)
		}
		h.Set("Accept", "application/json")
		req.Header = h
		return req
	}
	owner := func(status int, _ http.Header, body string) bool {
		return status == http.StatusOK && strings.Contains(body, "Signed in as <span id=\"user\">"+a.Owner.Username+"<") && !strings.Contains(body, "mallory")
	}
	refused := func(want int) func(int, http.Header, string) bool {
		return func(status int, h http.Header, _ string) bool { return status == want && h.Get("Location") == "" }
	}
	return []soakCase{
		{"owner's Plex token, header", func(int64) *http.Request {
			return newReq("", http.Header{"X-Plex-Token": {a.Owner.Token}, "X-Forwarded-User": {"mallory"}})
		}, owner},
		{"owner's Plex token, query", func(int64) *http.Request {
			return newReq("?X-Plex-Product=Plex%20Web&X-Plex-Token="+a.Owner.Token, http.Header{"X_Forwarded_User": {"mallory"}})
		}, owner},
		{"a new invalid Plex token each time", func(n int64) *http.Request {
			return newReq("", http.Header{"X-Plex-Token": {"soak-invalid-" + strconv.FormatInt(n, 10)}})
		}, refused(http.StatusUnauthorized)},
		{"a Plex token no rule allows", func(int64) *http.Request {
			return newReq("", http.Header{"X-Plex-Token": {a.Stranger.Token}})
		}, refused(http.StatusForbidden)},
		{"conflicting Plex tokens", func(int64) *http.Request {
			return newReq("?X-Plex-Token="+a.Stranger.Token, http.Header{"X-Plex-Token": {a.Owner.Token}})
		}, refused(http.StatusUnauthorized)},
	}
}

// flipB64 returns another base64url character.
func flipB64(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

// soakTally counts outcomes; safe for concurrent use.
type soakTally struct {
	total, wrong, fivexx, errs atomic.Int64
	mu                         sync.Mutex
	examples                   []string
}

func (s *soakTally) record(c soakCase, status int, h http.Header, body string, err error) {
	s.total.Add(1)
	switch {
	case err != nil:
		s.errs.Add(1)
	case status >= 500:
		s.fivexx.Add(1)
		s.example(fmt.Sprintf("%s: status %d", c.name, status))
	case !c.ok(status, h, body):
		s.wrong.Add(1)
		s.example(fmt.Sprintf("%s: status %d, Location %q, body %.120q", c.name, status, h.Get("Location"), body))
	}
}

func (s *soakTally) example(e string) {
	s.mu.Lock()
	if len(s.examples) < 5 {
		s.examples = append(s.examples, e)
	}
	s.mu.Unlock()
}

func soakDuration(t *testing.T) time.Duration {
	raw := os.Getenv("PLEXGATE_SOAKTIME")
	if raw == "" {
		return defaultSoakTime
	}
	d, err := time.ParseDuration(raw)
	if err != nil {
		t.Fatalf("PLEXGATE_SOAKTIME: %v", err)
	}
	return d
}

// traefikVitals reads Traefik's goroutines and resident memory from its
// Prometheus endpoint.
func traefikVitals(ctx context.Context) (goroutines, rssMB float64, err error) {
	m, err := harness.ReadMetrics(ctx, fmt.Sprintf("http://127.0.0.1:%d/metrics", stack.Ports.Metrics))
	if err != nil {
		return 0, 0, err
	}
	return m.Get("go_goroutines"), m.Get("process_resident_memory_bytes") / (1 << 20), nil
}

func TestSoak(t *testing.T) {
	session := signIn(t, harness.Alice)
	cases := soakCases(t, session)
	client := stack.HTTPClient()
	client.Transport.(*http.Transport).MaxIdleConnsPerHost = soakConcurrency
	duration := soakDuration(t)
	tally := &soakTally{}
	plexBefore := len(stack.Plex.Requests())
	var g0, rss0 float64
	warmErr := errors.New("the soak ended before its 5 s warm-up")
	sem := make(chan struct{}, soakConcurrency)
	var wg sync.WaitGroup
	tick := time.NewTicker(time.Second / soakRate)
	defer tick.Stop()
	start := time.Now()
	for n := int64(0); time.Since(start) < duration; n++ {
		<-tick.C
		if n == soakRate*5 { // after a 5 s warm-up
			g0, rss0, warmErr = traefikVitals(t.Context())
		}
		c := cases[n%int64(len(cases))]
		sem <- struct{}{}
		wg.Add(1)
		go func(n int64) {
			defer func() { <-sem; wg.Done() }()
			status, h, body, err := do(client, c.build(n))
			tally.record(c, status, h, body, err)
		}(n)
	}
	wg.Wait()
	elapsed := time.Since(start)
	g1, rss1, err := traefikVitals(t.Context())
	if err != nil || warmErr != nil {
		t.Fatalf("reading Traefik's metrics: after the warm-up: %v; at the end: %v", warmErr, err)
	}
	// A reading of 0 means the metric is missing: the growth check below
	// would compare nothing.
	if g0 <= 0 || rss0 <= 0 || g1 <= 0 || rss1 <= 0 {
		t.Fatalf("Traefik's go_goroutines / process_resident_memory_bytes missing: %.0f, %.1f MB -> %.0f, %.1f MB", g0, rss0, g1, rss1)
	}
	// Every request that reached Plex through Traefik carries one of the two
	// identities the soak allows: alice's session or the owner's Plex token.
	// (forwardauth itself asks Plex for /identity directly, by its address.)
	strangers, throughTraefik := 0, 0
	for _, r := range stack.Plex.Requests()[plexBefore:] {
		if r.Host != harness.PlexHost && !strings.HasPrefix(r.Host, harness.PlexHost+":") {
			continue
		}
		throughTraefik++
		if r.User != harness.Alice.Email && r.User != stack.PlexAccounts.Owner.Username {
			strangers++
			tally.example(fmt.Sprintf("Plex got %s with X-Forwarded-User %q", r.Path, r.User))
		}
	}
	if throughTraefik == 0 {
		t.Fatalf("no request reached Plex through Traefik as %s", harness.PlexHost)
	}
	t.Logf("soak: %d requests in %s (%.0f/s), %d wrong decisions, %d 5xx, %d transport errors, %d Plex requests without alice's or the owner's identity; "+
		"Traefik goroutines %.0f -> %.0f, RSS %.1f -> %.1f MB",
		tally.total.Load(), elapsed.Round(time.Second), float64(tally.total.Load())/elapsed.Seconds(), tally.wrong.Load(),
		tally.fivexx.Load(), tally.errs.Load(), strangers, g0, g1, rss0, rss1)
	if tally.wrong.Load() != 0 || tally.fivexx.Load() != 0 || tally.errs.Load() != 0 || strangers != 0 {
		t.Errorf("soak failed; first problems: %s", strings.Join(tally.examples, "; "))
	}
	if g1 > g0+100 || rss1 > rss0*1.5+64 {
		t.Errorf("Traefik grew during the soak: goroutines %.0f -> %.0f, RSS %.1f -> %.1f MB", g0, g1, rss0, rss1)
	}
}

// do sends req and returns the status, headers and the first 64 KB of the body.
func do(client *http.Client, req *http.Request) (int, http.Header, string, error) {
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, resp.Header, string(body), err
}
