package plugin

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"testing"
	"time"
)

// serveByFunctions is ServeHTTP with its inline hit branch replaced by
// the functions it duplicates for speed (cacheGet, then allow): the
// reference the inline branch is held to (issue 11).
func serveByFunctions(m *Middleware, rw http.ResponseWriter, req *http.Request) {
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

// The inline hit path of ServeHTTP and cacheGet + allow give the same
// decision and the same headers for the same cache states.
func TestInlineHitPathMatchesCacheGetAndAllow(t *testing.T) {
	const line = "theme=dark; plexgate_session=opaque-a"
	now := testNow.UnixNano()
	alice := func(expires int64) *identity {
		return &identity{expires: expires, headers: []headerValue{
			{name: "X-Forwarded-User", values: []string{"alice@example.com"}},
			{name: "X-Forwarded-Groups", values: []string{"plex-users", "admins"}},
		}}
	}
	bob := func(expires int64) *identity {
		return &identity{expires: expires, headers: []headerValue{{name: "X-Forwarded-User", values: []string{"bob@example.com"}}}}
	}
	states := []struct {
		name    string
		entries map[string]*identity
		cookies []string // the request's Cookie header lines
		bearer  string
	}{
		{"empty cache", nil, []string{line}, ""},
		{"valid entry for the line", map[string]*identity{line: alice(now + int64(time.Minute))}, []string{line}, ""},
		{"entry expiring this nanosecond", map[string]*identity{line: alice(now)}, []string{line}, ""},
		{"entry one nanosecond from expiry", map[string]*identity{line: alice(now + 1)}, []string{line}, ""},
		{"expired entry", map[string]*identity{line: alice(now - int64(time.Minute))}, []string{line}, ""},
		{"entry for another cookie line", map[string]*identity{"plexgate_session=opaque-a": alice(now + int64(time.Minute))}, []string{line}, ""},
		{"entry for the token only", map[string]*identity{"opaque-a": bob(now + int64(time.Minute))}, []string{line}, ""},
		{"expired line, valid token", map[string]*identity{line: alice(now - 1), "opaque-a": bob(now + int64(time.Minute))}, []string{line}, ""},
		{"Bearer entry, line not filed", map[string]*identity{"api-token": bob(now + int64(time.Minute))}, []string{"theme=dark"}, "api-token"},
		{"line entry and a Bearer token", map[string]*identity{line: alice(now + int64(time.Minute)), "api-token": bob(now + int64(time.Minute))}, []string{line}, "api-token"},
		{"line entry, two Cookie lines", map[string]*identity{line: alice(now + int64(time.Minute))}, []string{line, "a=1"}, ""},
		{"entry without identity headers", map[string]*identity{line: {expires: now + int64(time.Minute)}}, []string{line}, ""},
		{"no Cookie header", map[string]*identity{"": alice(now + int64(time.Minute))}, nil, ""},
	}
	for _, st := range states {
		t.Run(st.name, func(t *testing.T) {
			type outcome struct {
				Status, Upstream, Validate int
				Header                     http.Header
				Entries                    []string
			}
			run := func(serve func(*Middleware, http.ResponseWriter, *http.Request)) outcome {
				fa := newCompanion(t)
				fa.setAnswer(denyAll)
				m, up, _ := newTestMiddleware(t, testConfig(fa.validateURL()), newClock())
				for k, id := range st.entries {
					copied := *id
					m.cache.entries[k] = &copied
				}
				req := request("")
				if st.cookies != nil {
					req.Header["Cookie"] = append([]string(nil), st.cookies...)
				}
				if st.bearer != "" {
					req.Header.Set("Authorization", "Bearer "+st.bearer)
				}
				forge(req.Header, "X-Forwarded-User", "mallory")
				forge(req.Header, "X_forwarded_groups", "mallory")
				rec := httptest.NewRecorder()
				serve(m, rec, req)
				v, _ := fa.calls()
				var live []string
				for k, id := range m.cache.entries {
					if now < id.expires { // an expired entry may be left for the sweep
						live = append(live, k)
					}
				}
				slices.Sort(live)
				return outcome{rec.Code, up.calls, v, up.header, live}
			}
			inline := run(func(m *Middleware, rw http.ResponseWriter, req *http.Request) { m.ServeHTTP(rw, req) })
			ref := run(serveByFunctions)
			if !reflect.DeepEqual(inline, ref) {
				t.Fatalf("inline hit path: %+v\ncacheGet + allow: %+v", inline, ref)
			}
		})
	}
}
