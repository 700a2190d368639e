package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/plexgate/plexgate/e2e/harness"
)

// stackStartTimeout bounds starting the whole stack (ACME issuance included).
const stackStartTimeout = 4 * time.Minute

var (
	stack   *harness.Stack
	browser *harness.Browser
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	paths, err := harness.FindPaths()
	if err == nil {
		err = paths.CheckTools(harness.GoTools, harness.NodeTools, harness.BrowserTools)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	runDir, err := harness.NewRunDir(filepath.Join(paths.E2E(), ".work"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), stackStartTimeout)
	defer cancel()
	stack, err = harness.StartStack(ctx, paths, harness.Ports{}, runDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: starting the stack failed:", err)
		return 1
	}
	defer stack.Stop()
	stopOnSignal()
	if browser, err = harness.NewBrowser(paths, runDir, stack.Pebble.RootPEM); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	fmt.Fprintln(os.Stderr, "e2e: stack running; logs in", runDir)
	noteStackSecrets(stack)
	code := m.Run()
	stack.Stop() // flushes every log
	if leaks, err := secretsInLogs(runDir); err != nil || len(leaks) > 0 {
		fmt.Fprintf(os.Stderr, "e2e: FAIL: secrets in the logs of %s: %v %v\n", runDir, leaks, err)
		code = 1
	}
	if code == 0 && os.Getenv("PLEXGATE_E2E_KEEP") == "" {
		os.RemoveAll(runDir) // kept when a test failed, or with PLEXGATE_E2E_KEEP=1
	}
	return code
}

// stopOnSignal stops the stack when the test binary is interrupted.
func stopOnSignal() {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		stack.Stop()
		os.Exit(1)
	}()
}

// response is a read answer.
type response struct {
	status int
	header http.Header
	body   string
}

// get requests url through the stack's client with the given headers.
func get(t *testing.T, url string, header http.Header) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := stack.HTTPClient().Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return response{resp.StatusCode, resp.Header, string(body)}
}

// withSession returns header plus the session cookie.
func withSession(session string, header http.Header) http.Header {
	h := header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set("Cookie", harness.CookieName+"="+session)
	return h
}

var (
	sessionsMu sync.Mutex
	sessions   = map[string]string{}
)

// signIn logs user in with Chromium (once per test binary) and returns the
// session cookie's value.
func signIn(t *testing.T, user harness.User) string {
	t.Helper()
	sessionsMu.Lock()
	defer sessionsMu.Unlock()
	if s, ok := sessions[user.Username]; ok {
		return s
	}
	res, err := browser.Run(t.Context(), "signin-"+user.Username,
		harness.BrowserStep{Goto: stack.PlexURL("/web")}, harness.BrowserStep{Login: &user})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Cookie(harness.CookieName)
	if s == "" {
		t.Fatalf("no %s cookie after signing in as %s; page %s: %.300q", harness.CookieName, user.Username, res.Steps[1].URL, res.Steps[1].Text)
	}
	sessions[user.Username] = s
	noteSecret(user.Username+"'s session token", s)
	return s
}

// plexSaw reports whether the stand-in Plex received a request whose path
// starts with prefix among the requests from index from on.
func plexSaw(from int, prefix string) bool {
	for _, r := range stack.Plex.Requests()[from:] {
		if strings.HasPrefix(r.Path, prefix) {
			return true
		}
	}
	return false
}
