package handler

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// benchRequest is a /validate request carrying cookie, as Traefik sends it.
func benchRequest(cookie *http.Cookie) *http.Request {
	req := httptest.NewRequest(http.MethodGet, "http://forwardauth:4181/validate", nil)
	req.Header.Set("X-Forwarded-Method", "GET")
	req.Header.Set("X-Forwarded-Proto", "https")
	req.Header.Set("X-Forwarded-Host", "plex.example.com")
	req.Header.Set("X-Forwarded-Uri", "/web/index.html")
	req.AddCookie(cookie)
	return req
}

type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopWriter) WriteHeader(int)             {}

func benchValidate(b *testing.B, cold bool) {
	e := newEnv(b, nil)
	srv := e.srv
	c := e.session()
	req := benchRequest(c)
	w := &nopWriter{h: http.Header{}}
	srv.ServeHTTP(w, req)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if cold {
			srv.cache.mu.Lock()
			clear(srv.cache.entries)
			srv.cache.mu.Unlock()
		}
		clear(w.h)
		srv.ServeHTTP(w, req)
	}
	b.StopTimer()
	if w.h.Get("X-Forwarded-User") == "" {
		b.Fatal("request was not allowed")
	}
}

// BenchmarkValidateCacheHit measures /validate for a token already verified.
func BenchmarkValidateCacheHit(b *testing.B) { benchValidate(b, false) }

// BenchmarkValidateColdEdDSA measures /validate with a full EdDSA verification.
func BenchmarkValidateColdEdDSA(b *testing.B) { benchValidate(b, true) }

// BenchmarkValidatePlexTokenCached measures /validate for a Plex token whose
// verdict is cached (the token in the query, as Plex apps send it).
func BenchmarkValidatePlexTokenCached(b *testing.B) {
	e, tv := plexEnv(b, nil)
	req := httptest.NewRequest(http.MethodGet, "http://forwardauth:4181/validate", nil)
	req.Header.Set("X-Forwarded-Method", "GET")
	req.Header.Set("X-Forwarded-Proto", "https")
	req.Header.Set("X-Forwarded-Host", "plex.example.com")
	req.Header.Set("X-Forwarded-Uri", "/library/metadata/1/children?includeElements=Stream&X-Plex-Token="+aliceTok)
	w := &nopWriter{h: http.Header{}}
	e.srv.ServeHTTP(w, req)
	calls := tv.calls
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		clear(w.h)
		e.srv.ServeHTTP(w, req)
	}
	b.StopTimer()
	if w.h.Get("X-Forwarded-User") != "alice" || tv.calls != calls {
		b.Fatalf("user %q, plex.tv calls %d → %d", w.h.Get("X-Forwarded-User"), calls, tv.calls)
	}
}
