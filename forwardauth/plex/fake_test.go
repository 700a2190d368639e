package plex

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeTV stands in for plex.tv: /api/v2/user answers from accounts (by
// token), /api/servers/{id}/shared_servers from shares. status, when set,
// is the answer to everything.
type fakeTV struct {
	mu           sync.Mutex
	accounts     map[string]map[string]any
	status       int
	retryAfter   string
	sharesXML    string
	sharesStatus int
	calls        map[string]int
	last         map[string]http.Header // last request headers by path
	block        chan struct{}          // when set, requests wait for it to close
	blockPath    string                 // only requests whose path ends so wait ("": all)
	entered      chan string            // when set, receives each path as it arrives
}

func newFakeTV() *fakeTV {
	return &fakeTV{accounts: map[string]map[string]any{}, calls: map[string]int{}, last: map[string]http.Header{}}
}

func (f *fakeTV) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.calls[r.URL.Path]++
	f.last[r.URL.Path] = r.Header.Clone()
	block, entered := f.block, f.entered
	if !strings.HasSuffix(r.URL.Path, f.blockPath) {
		block = nil
	}
	f.mu.Unlock()
	if entered != nil {
		entered <- r.URL.Path
	}
	if block != nil {
		<-block
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.status != 0 {
		w.Header().Set("Retry-After", f.retryAfter)
		w.WriteHeader(f.status)
		return
	}
	switch {
	case r.URL.Path == "/api/v2/user":
		a, ok := f.accounts[r.Header.Get(TokenParam)]
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(a)
	case strings.HasSuffix(r.URL.Path, "/shared_servers"):
		if f.sharesStatus != 0 {
			w.WriteHeader(f.sharesStatus)
			return
		}
		if _, ok := f.accounts[r.Header.Get(TokenParam)]; !ok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, f.sharesXML)
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeTV) count(path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[path]
}

func (f *fakeTV) set(fn func(*fakeTV)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// fakePMS stands in for the Plex server: /identity without a token, / with
// one of tokens (or with none when open is set).
type fakePMS struct {
	mu     sync.Mutex
	tokens map[string]bool
	open   bool
	status int
	calls  map[string]int
}

func (p *fakePMS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls[r.URL.Path]++
	switch {
	case p.status != 0:
		w.WriteHeader(p.status)
	case r.URL.Path == "/identity":
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><MediaContainer size="0" claimed="1" machineIdentifier="mid-1" version="1.41.0"></MediaContainer>`)
	case r.URL.Path == "/" && (p.open || p.tokens[r.Header.Get(TokenParam)]):
		fmt.Fprint(w, `<MediaContainer size="0"/>`)
	default:
		w.WriteHeader(http.StatusUnauthorized)
	}
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const (
	ownerTok  = "ownerTokenAAAAAAAAAA"
	ownerTok2 = "ownerPhoneTokenBBBBB" // another device of the owner
	aliceTok  = "aliceTokenCCCCCCCCCC"
	bobTok    = "bobAccountTokenDDDDD" // bob is a friend; this is his account token
	bobShare  = "bobShareTokenEEEEEEE" // the token plex.tv gave bob for this server
	carolTok  = "carolTokenFFFFFFFFFF" // a stranger
	transTok  = "transient-0b6a1c2d-aaaa-4bbb-8ccc-0123456789ab"
)

const sharesXML = `<?xml version="1.0" encoding="UTF-8"?>
<MediaContainer friendlyName="myPlex" identifier="com.plexapp.plugins.myplex" machineIdentifier="mid-1" size="1">
  <SharedServer id="501" username="bob" email="bob@example.com" userID="2002" accessToken="` + bobShare + `" name="home" acceptedAt="1700000000" invitedAt="1699000000" allowSync="0" owned="0">
    <Section id="1" key="1" title="Movies" type="movie" shared="1"/>
  </SharedServer>
</MediaContainer>`

// env is a Verifier against fakes, with a log buffer.
type env struct {
	tv    *fakeTV
	pms   *fakePMS
	clock *clock
	logs  *bytes.Buffer
	v     *Verifier
}

// newEnv builds the fakes with the owner, alice (2FA on), bob (friend) and
// carol (no twoFactorEnabled field), and a Verifier with opts over them.
func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	e := &env{tv: newFakeTV(), pms: &fakePMS{tokens: map[string]bool{transTok: true}, calls: map[string]int{}},
		clock: &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}, logs: &bytes.Buffer{}}
	on, off := true, false
	e.tv.accounts[ownerTok] = map[string]any{"id": 1001, "uuid": "u-owner", "username": "owner", "email": "owner@example.com", "twoFactorEnabled": on}
	e.tv.accounts[ownerTok2] = e.tv.accounts[ownerTok]
	e.tv.accounts[aliceTok] = map[string]any{"id": 3003, "uuid": "u-alice", "username": "Alice", "email": "Alice@Example.com", "twoFactorEnabled": on}
	e.tv.accounts[bobTok] = map[string]any{"id": 2002, "uuid": "u-bob", "username": "bob", "email": "bob@example.com", "twoFactorEnabled": off}
	e.tv.accounts[carolTok] = map[string]any{"id": 4004, "uuid": "u-carol", "username": "carol", "email": "carol@example.com"}
	e.tv.sharesXML = sharesXML
	tv, pms := httptest.NewServer(e.tv), httptest.NewServer(e.pms)
	t.Cleanup(tv.Close)
	t.Cleanup(pms.Close)
	opts.APIURL, opts.Now = tv.URL, e.clock.Now
	if opts.ServerURL == "-" {
		opts.ServerURL = ""
	} else {
		opts.ServerURL = pms.URL
	}
	opts.Logger = slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	t.Cleanup(func() { e.noTokenLogged(t) })
	v, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	e.v = v
	return e
}

// noTokenLogged fails when any token appears in the log.
func (e *env) noTokenLogged(t *testing.T) {
	for _, tok := range []string{ownerTok, ownerTok2, aliceTok, bobTok, bobShare, carolTok, transTok} {
		if strings.Contains(e.logs.String(), tok) {
			t.Errorf("token %q logged:\n%s", tok, e.logs)
		}
	}
}

func (e *env) verify(t *testing.T, tok string) Verdict {
	t.Helper()
	v, err := e.v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return v
}

// testPolicy stands in for authz.PlexRules: it allows the usernames and
// emails in users (any case), friends when friends is set, and transient
// tokens; with twoFactor it denies what plex.tv did not say has it on.
type testPolicy struct {
	users              []string
	friends, twoFactor bool
}

func (p testPolicy) listed(id Identity) bool {
	for _, u := range p.users {
		if id.Kind != KindTransient && (strings.EqualFold(u, id.Username) || strings.EqualFold(u, id.Email)) {
			return true
		}
	}
	return false
}

func (p testPolicy) NeedsFriendship(id Identity) bool {
	return p.friends && id.Kind == KindAccount && !p.listed(id)
}

func (p testPolicy) Decide(id Identity) (bool, string) {
	if !(id.Kind == KindTransient || p.listed(id) || p.friends && id.Friend) {
		return false, "not listed"
	}
	if p.twoFactor && (id.TwoFactor == nil || !*id.TwoFactor) {
		return false, "two-factor"
	}
	return true, ""
}
