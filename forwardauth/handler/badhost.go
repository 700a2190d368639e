package handler

import (
	"net/http"
	"strings"
	"sync"
	"time"
)

// badHostEvery is how often /validate logs its 400 answers for one host: a
// misconfigured host fails on every request, and one line a minute says so
// without flooding the log.
const badHostEvery = time.Minute

// maxBadHosts bounds the hosts remembered; beyond it (client-chosen hosts),
// further hosts are not logged until old entries expire.
const maxBadHosts = 256

// hostLimiter lets one event per host through per interval.
type hostLimiter struct {
	mu    sync.Mutex
	last  map[string]time.Time
	every time.Duration
	max   int
}

func newHostLimiter(every time.Duration, max int) *hostLimiter {
	return &hostLimiter{last: map[string]time.Time{}, every: every, max: max}
}

// allow reports whether host's event at now is logged, and records it.
func (h *hostLimiter) allow(host string, now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if t, ok := h.last[host]; ok && now.Sub(t) < h.every {
		return false
	}
	if len(h.last) >= h.max {
		for k, t := range h.last {
			if now.Sub(t) >= h.every {
				delete(h.last, k)
			}
		}
		if len(h.last) >= h.max {
			return false
		}
	}
	h.last[host] = now
	return true
}

// logBadHost logs, rate-limited per host, that /validate refused a request
// whose original URL is not on an allowed domain, with the host (never the
// URI: Plex apps put tokens in the query) and the fix.
func (s *Server) logBadHost(r *http.Request) {
	host := strings.ToLower(r.Header.Get("X-Forwarded-Host"))
	if len(host) > 253 {
		host = host[:253]
	}
	if !s.badHosts.allow(host, s.now()) {
		return
	}
	s.log.Warn("validate: 400, the original URL is not on an allowed domain; every request to this host fails",
		"host", host, "allowed", strings.Join(s.cfg.ReturnDomains(), ","),
		"fix", "set session.cookie_domain to a parent domain of this host and the auth host, or add the host to redirect.allowed_domains")
}
