package plex

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestAccountTokenAllowedByPlexUsers(t *testing.T) {
	e := newEnv(t, Options{OwnerToken: ownerTok, Policy: testPolicy{users: []string{"alice"}}})
	v := e.verify(t, aliceTok)
	if v.Outcome != Allowed || v.Identity.Kind != KindAccount || v.Identity.ID != 3003 || v.Identity.Username != "Alice" || v.Identity.Owner {
		t.Fatalf("verdict = %+v", v)
	}
	if got := v.MaxAge(e.clock.Now()); got != 10*time.Minute {
		t.Fatalf("MaxAge = %s, want the default cache_ttl 10m", got)
	}
	h := e.tv.last["/api/v2/user"]
	for name, want := range map[string]string{"Accept": "application/json", "X-Plex-Product": "plexgate",
		"X-Plex-Client-Identifier": "plexgate-forwardauth", TokenParam: ownerTok} {
		if got := h.Get(name); got != want { // the owner lookup came last
			t.Errorf("plex.tv request %s = %q, want %q", name, got, want)
		}
	}
}

func TestVerdictsAreCachedForTheirTTL(t *testing.T) {
	e := newEnv(t, Options{Policy: testPolicy{users: []string{"alice"}}, CacheTTL: 10 * time.Minute})
	e.verify(t, aliceTok)
	e.verify(t, carolTok)
	e.verify(t, "unknownTokenGGGGGGGG")
	calls := e.tv.count("/api/v2/user")
	e.clock.Advance(59 * time.Second)
	for _, tok := range []string{aliceTok, carolTok, "unknownTokenGGGGGGGG"} {
		e.verify(t, tok)
	}
	if got := e.tv.count("/api/v2/user"); got != calls {
		t.Fatalf("plex.tv called %d times within the TTLs, want %d", got, calls)
	}
	e.clock.Advance(2 * time.Second) // denied and invalid verdicts (1m) expired, allowed (10m) not
	e.verify(t, aliceTok)
	e.verify(t, carolTok)
	e.verify(t, "unknownTokenGGGGGGGG")
	if got := e.tv.count("/api/v2/user"); got != calls+2 {
		t.Fatalf("plex.tv called %d times, want %d (denied and invalid asked again)", got, calls+2)
	}
	e.clock.Advance(9 * time.Minute)
	e.verify(t, aliceTok)
	if got := e.tv.count("/api/v2/user"); got != calls+3 {
		t.Fatalf("plex.tv called %d times, want %d (allowed expired)", got, calls+3)
	}
}

func TestInvalidTokens(t *testing.T) {
	for _, status := range []int{http.StatusUnauthorized, http.StatusUnprocessableEntity} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			e := newEnv(t, Options{Policy: testPolicy{users: []string{"alice"}}})
			e.tv.set(func(f *fakeTV) { f.status = status })
			if v := e.verify(t, aliceTok); v.Outcome != Invalid || v.Identity != (Identity{}) {
				t.Fatalf("verdict = %+v, want Invalid", v)
			}
		})
	}
}

func TestPlexTVTroubleIsNeverAVerdict(t *testing.T) {
	cases := map[string]func(http.ResponseWriter, *http.Request){
		"500":          func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(500) },
		"502":          func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(502) },
		"429":          func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(429) },
		"403":          func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(403) },
		"404":          func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(404) },
		"bad json":     func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, `{"id":`) },
		"no id":        func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, `{"username":"alice"}`) },
		"redirect":     func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "http://127.0.0.1:1/steal", 302) },
		"timeout":      func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() },
		"closed early": func(w http.ResponseWriter, _ *http.Request) { panic(http.ErrAbortHandler) },
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(h))
			defer srv.Close()
			v, err := New(Options{APIURL: srv.URL, Policy: testPolicy{users: []string{"alice"}},
				HTTPClient: &http.Client{Timeout: 50 * time.Millisecond}})
			if err != nil {
				t.Fatal(err)
			}
			got, err := v.Verify(context.Background(), aliceTok)
			if !errors.Is(err, ErrUnavailable) || got.Outcome != 0 {
				t.Fatalf("Verify = %+v, %v; want ErrUnavailable and no verdict", got, err)
			}
			if strings.Contains(err.Error(), aliceTok) {
				t.Fatalf("error text holds the token: %v", err)
			}
			if _, ok := v.Cached(aliceTok); ok {
				t.Fatal("an unavailable answer was cached")
			}
		})
	}
}

func TestBackOffKeepsCachedVerdictsAndRefusesNewTokens(t *testing.T) {
	e := newEnv(t, Options{Policy: testPolicy{users: []string{"alice", "carol"}}})
	e.verify(t, aliceTok)
	e.tv.set(func(f *fakeTV) { f.status = http.StatusServiceUnavailable })
	if _, err := e.v.Verify(context.Background(), carolTok); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("carol during the outage: %v, want ErrUnavailable", err)
	}
	calls := e.tv.count("/api/v2/user")
	if _, err := e.v.Verify(context.Background(), carolTok); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("carol while backing off: %v", err)
	}
	if got := e.tv.count("/api/v2/user"); got != calls {
		t.Fatalf("plex.tv asked while backing off (%d calls, want %d)", got, calls)
	}
	if v := e.verify(t, aliceTok); v.Outcome != Allowed {
		t.Fatalf("alice, verified before the outage: %+v", v)
	}
	e.tv.set(func(f *fakeTV) { f.status = 0 })
	e.clock.Advance(minBackoff)
	if v := e.verify(t, carolTok); v.Outcome != Allowed {
		t.Fatalf("carol after the back-off: %+v", v)
	}
	if n := strings.Count(e.logs.String(), "plex.tv is failing"); n != 1 {
		t.Fatalf("the outage was logged %d times, want once:\n%s", n, e.logs)
	}
	if !strings.Contains(e.logs.String(), "plex.tv answers again") {
		t.Fatalf("the recovery was not logged:\n%s", e.logs)
	}
}

func TestBackOffHonoursRetryAfterAndGrows(t *testing.T) {
	e := newEnv(t, Options{Policy: testPolicy{users: []string{"carol"}}})
	e.tv.set(func(f *fakeTV) { f.status, f.retryAfter = http.StatusTooManyRequests, "60" })
	_, _ = e.v.Verify(context.Background(), carolTok)
	e.tv.set(func(f *fakeTV) { f.status, f.retryAfter = 0, "" })
	e.clock.Advance(59 * time.Second)
	if _, err := e.v.Verify(context.Background(), carolTok); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("within Retry-After: %v, want ErrUnavailable", err)
	}
	e.clock.Advance(2 * time.Second)
	if v := e.verify(t, carolTok); v.Outcome != Allowed {
		t.Fatalf("after Retry-After: %+v", v)
	}

	b := newBreaker("plex.tv", e.clock.Now, e.v.log)
	var waits []time.Duration
	for range 9 {
		b.fail(0)
		waits = append(waits, b.wait())
	}
	if waits[0] != minBackoff || waits[1] != 2*minBackoff || waits[8] != maxBackoff {
		t.Fatalf("back-off steps %v, want %s doubling up to %s", waits, minBackoff, maxBackoff)
	}
	b.succeed()
	if b.wait() != 0 {
		t.Fatal("a success did not close the breaker")
	}
}

func TestOneVerificationPerTokenAtATime(t *testing.T) {
	e := newEnv(t, Options{Policy: testPolicy{users: []string{"alice"}}})
	release, entered := make(chan struct{}), make(chan string, 10)
	e.tv.set(func(f *fakeTV) { f.block, f.entered = release, entered })
	first, cancelFirst := context.WithCancel(context.Background())
	done := make(chan Verdict)
	go func() {
		v, _ := e.v.Verify(first, aliceTok)
		done <- v
	}()
	<-entered // the first verification is at plex.tv
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.v.Verify(cancelled, aliceTok); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("a second caller did not wait for the first verification: %v", err)
	}
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			if v, err := e.v.Verify(context.Background(), aliceTok); err != nil || v.Outcome != Allowed {
				t.Errorf("waiter got %+v, %v", v, err)
			}
		})
	}
	cancelFirst() // the first caller leaving does not end the verification
	close(release)
	wg.Wait()
	if v := <-done; v.Outcome != Allowed {
		t.Fatalf("first caller got %+v", v)
	}
	if got := e.tv.count("/api/v2/user"); got != 1 {
		t.Fatalf("plex.tv asked %d times for one token, want 1", got)
	}
}

func TestOwnerIsRecognisedByAccountNotToken(t *testing.T) {
	e := newEnv(t, Options{OwnerToken: ownerTok, ServerID: "mid-1", Policy: testPolicy{users: []string{"owner", "alice"}}})
	for tok, owner := range map[string]bool{ownerTok: true, ownerTok2: true, aliceTok: false} {
		if v := e.verify(t, tok); v.Outcome != Allowed || v.Identity.Owner != owner {
			t.Errorf("%s: verdict %+v, want owner=%v", tok[:5], v, owner)
		}
	}
}

func TestOwnerIsAllowedOnlyByARule(t *testing.T) {
	e := newEnv(t, Options{OwnerToken: ownerTok, ServerID: "mid-1", Policy: testPolicy{users: []string{"alice"}}})
	if v := e.verify(t, ownerTok); v.Outcome != Denied || !v.Identity.Owner {
		t.Fatalf("owner not listed: %+v, want Denied", v)
	}
}

func TestUnknownOwnerMeansNotOwnerForAMinute(t *testing.T) {
	e := newEnv(t, Options{OwnerToken: "revokedOwnerTokenHHH", ServerID: "mid-1", Policy: testPolicy{users: []string{"alice"}}})
	v := e.verify(t, aliceTok)
	if v.Outcome != Allowed || v.Identity.Owner || v.MaxAge(e.clock.Now()) != time.Minute {
		t.Fatalf("verdict %+v, MaxAge %s; want allowed, not owner, kept 1m", v, v.MaxAge(e.clock.Now()))
	}
	if !strings.Contains(e.logs.String(), "owner") {
		t.Fatalf("the unknown owner was not logged:\n%s", e.logs)
	}
}

func TestTransientTokens(t *testing.T) {
	e := newEnv(t, Options{Policy: testPolicy{users: []string{"alice"}}})
	v := e.verify(t, transTok)
	if v.Outcome != Allowed || v.Identity.Kind != KindTransient || v.Identity.User("username") != TransientUser ||
		v.MaxAge(e.clock.Now()) != time.Minute {
		t.Fatalf("verdict %+v", v)
	}
	if e.pms.calls["/"] != 2 || e.tv.count("/api/v2/user") != 0 {
		t.Fatalf("Plex server asked %d times (want 2: without and with the token), plex.tv %d (want 0)", e.pms.calls["/"], e.tv.count("/api/v2/user"))
	}
	if v := e.verify(t, "transient-unknown"); v.Outcome != Invalid {
		t.Fatalf("unknown transient token: %+v", v)
	}
}

func TestTransientTokensNeedAServerThatChecksTokens(t *testing.T) {
	e := newEnv(t, Options{Policy: testPolicy{users: []string{"alice"}}})
	e.pms.open = true
	if _, err := e.v.Verify(context.Background(), "transient-anything"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("open server: %v, want ErrUnavailable", err)
	}
	e.pms.open, e.pms.status = false, http.StatusBadGateway
	e.clock.Advance(time.Hour)
	if _, err := e.v.Verify(context.Background(), transTok); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("failing server: %v, want ErrUnavailable", err)
	}
	noServer := newEnv(t, Options{ServerURL: "-", Policy: testPolicy{users: []string{"alice"}}})
	if v := noServer.verify(t, transTok); v.Outcome != Invalid {
		t.Fatalf("no server_url: %+v, want Invalid", v)
	}
}

func TestVerdictCacheIsBounded(t *testing.T) {
	e := newEnv(t, Options{Policy: testPolicy{users: []string{"alice"}}, MaxEntries: 5})
	for i := range 40 {
		e.verify(t, fmt.Sprintf("unknownToken%08d", i))
	}
	if n := e.v.cache.len(); n > 5 {
		t.Fatalf("cache holds %d verdicts, bound 5", n)
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	for name, o := range map[string]Options{
		"api_url not a URL":   {APIURL: "plex.tv", Policy: testPolicy{}},
		"api_url with query":  {APIURL: "https://plex.tv/?a=b", Policy: testPolicy{}},
		"server_url not http": {ServerURL: "ftp://plex:32400", Policy: testPolicy{}},
		"no policy":           {},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("%s: New accepted %+v", name, o)
		}
	}
}
