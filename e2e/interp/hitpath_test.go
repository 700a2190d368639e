package interp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"
)

// hitPathDriver is added to the plugin's sources, interpreted only: it
// runs ServeHTTP's inline hit branch and its reference, cacheGet + allow
// (plugin/hitpath_test.go, compiled), on twin middlewares for each cache
// state and reports every difference in decision or headers.
const hitPathDriver = `package plugin

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"time"
)

type hitPathUpstream struct {
	calls  int
	header http.Header
}

func (u *hitPathUpstream) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	u.calls++
	u.header = req.Header.Clone()
}

func hitPathByFunctions(m *Middleware, rw http.ResponseWriter, req *http.Request) {
	for _, name := range m.identity.spellings {
		delete(req.Header, name)
	}
	if lines := req.Header["Cookie"]; len(lines) == 1 {
		if id := cacheGet(m.cache, lines[0], m.now().UnixNano()); id != nil {
			allow(m, rw, req, id)
			return
		}
	}
	serveMiss(m, rw, req)
}

func hitPathRun(entries map[string]*identity, cookies []string, bearer string, inline bool, now time.Time) string {
	up := &hitPathUpstream{}
	cfg := CreateConfig()
	cfg.ValidateURL = "http://127.0.0.1:1/validate"
	m, err := newMiddleware(up, cfg, "hitpath", options{now: func() time.Time { return now }, log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err.Error()
	}
	for k, id := range entries {
		copied := *id
		m.cache.entries[k] = &copied
	}
	req := httptest.NewRequest(http.MethodGet, "http://plex.example.com/web/index.html", nil)
	if cookies != nil {
		req.Header["Cookie"] = cookies
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	req.Header["X-Forwarded-User"] = []string{"mallory"}
	req.Header["X_forwarded_groups"] = []string{"mallory"}
	rec := httptest.NewRecorder()
	if inline {
		m.ServeHTTP(rec, req)
	} else {
		hitPathByFunctions(m, rec, req)
	}
	var names []string
	for name, v := range up.header {
		names = append(names, name+"="+strings.Join(v, ","))
	}
	sort.Strings(names)
	return fmt.Sprintf("status %d, upstream %d, headers %v", rec.Code, up.calls, names)
}

// HitPathReport returns the differences and the number of states in which
// the request reached the upstream.
func HitPathReport() (string, int) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	n := now.UnixNano()
	line := "theme=dark; plexgate_session=opaque-a"
	alice := func(expires int64) *identity {
		return &identity{expires: expires, headers: []headerValue{
			{name: "X-Forwarded-User", values: []string{"alice@example.com"}},
			{name: "X-Forwarded-Groups", values: []string{"plex-users", "admins"}},
		}}
	}
	states := []struct {
		name    string
		entries map[string]*identity
		cookies []string
		bearer  string
	}{
		{"empty cache", nil, []string{line}, ""},
		{"valid entry for the line", map[string]*identity{line: alice(n + 60e9)}, []string{line}, ""},
		{"entry expiring this nanosecond", map[string]*identity{line: alice(n)}, []string{line}, ""},
		{"entry one nanosecond from expiry", map[string]*identity{line: alice(n + 1)}, []string{line}, ""},
		{"expired entry", map[string]*identity{line: alice(n - 60e9)}, []string{line}, ""},
		{"entry for another cookie line", map[string]*identity{"plexgate_session=opaque-a": alice(n + 60e9)}, []string{line}, ""},
		{"entry for the token only", map[string]*identity{"opaque-a": alice(n + 60e9)}, []string{line}, ""},
		{"Bearer entry, line not filed", map[string]*identity{"api-token": alice(n + 60e9)}, []string{"theme=dark"}, "api-token"},
		{"line entry, two Cookie lines", map[string]*identity{line: alice(n + 60e9)}, []string{line, "a=1"}, ""},
		{"entry without identity headers", map[string]*identity{line: {expires: n + 60e9}}, []string{line}, ""},
	}
	var diffs []string
	reached := 0
	for _, st := range states {
		a := hitPathRun(st.entries, st.cookies, st.bearer, true, now)
		b := hitPathRun(st.entries, st.cookies, st.bearer, false, now)
		if a != b {
			diffs = append(diffs, st.name+": inline "+a+"; cacheGet + allow "+b)
		}
		if strings.Contains(a, "upstream 1") {
			reached++
		}
	}
	return strings.Join(diffs, "\n"), reached
}
`

// The issue-11 test interpreted: Yaegi runs the inline hit path and
// cacheGet + allow with the same answers for the same cache states.
func TestInterpretedInlineHitPathMatchesCacheGetAndAllow(t *testing.T) {
	gopath := t.TempDir()
	dir := filepath.Join(gopath, "src", moduleName, "plugin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	sources, err := filepath.Glob(filepath.Join(repoRoot, "plugin", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sources {
		if strings.HasSuffix(s, "_test.go") {
			continue
		}
		b, err := os.ReadFile(s)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(s)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "zz_hitpath.go"), []byte(hitPathDriver), 0o644); err != nil {
		t.Fatal(err)
	}
	i := interp.New(interp.Options{GoPath: gopath})
	if err := i.Use(stdlib.Symbols); err != nil {
		t.Fatal(err)
	}
	if _, err := i.Eval(`import "` + moduleName + `/plugin"`); err != nil {
		t.Fatal(err)
	}
	v, err := i.Eval("plugin.HitPathReport")
	if err != nil {
		t.Fatal(err)
	}
	diffs, reached := v.Interface().(func() (string, int))()
	if diffs != "" {
		t.Fatalf("interpreted, the two paths differ:\n%s", diffs)
	}
	if reached < 3 {
		t.Fatalf("only %d states reached the upstream: the comparison is vacuous", reached)
	}
}
