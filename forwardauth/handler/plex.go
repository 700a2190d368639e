package handler

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/plexgate/plexgate/forwardauth/authz"
	"github.com/plexgate/plexgate/forwardauth/config"
	"github.com/plexgate/plexgate/forwardauth/plex"
)

// plexGate holds what /validate needs for Plex tokens (plex.enabled).
type plexGate struct {
	verifier *plex.Verifier
	paths    *plex.TokenPaths
	field    string // plex.user_field
}

// plexOwnerToken reads plex.owner_token_file ("" when it is not set).
func plexOwnerToken(x config.PlexConfig) (string, error) {
	if !x.Enabled || x.OwnerTokenFile == "" {
		return "", nil
	}
	b, err := config.Secret("", x.OwnerTokenFile)
	if err != nil {
		return "", err
	}
	owner := strings.TrimSpace(string(b))
	if owner == "" {
		return "", fmt.Errorf("%s is empty", x.OwnerTokenFile)
	}
	return owner, nil
}

// newPlexGate builds the Plex verifier from a checked config and the
// owner's token; nil when plex.enabled is false.
func newPlexGate(cfg config.Config, owner string, s *Server) (*plexGate, error) {
	x := cfg.Plex
	if !x.Enabled {
		return nil, nil
	}
	v, err := plex.New(plex.Options{
		APIURL: x.APIURL, ServerURL: x.ServerURL, ServerID: x.ServerID, OwnerToken: owner,
		Policy: authz.NewPlexRules(cfg.Authz), CacheTTL: x.CacheTTL, RefreshInterval: x.RefreshInterval,
		HTTPClient: &http.Client{Timeout: 10 * time.Second}, Logger: s.log, Now: s.now,
	})
	if err != nil {
		return nil, fmt.Errorf("plex: %w", err)
	}
	return &plexGate{verifier: v, paths: plex.NewTokenPaths(x.TokenPaths), field: x.UserField}, nil
}

// isPreflight reports a CORS preflight as forwardAuth relays it: method
// OPTIONS with Origin and Access-Control-Request-Method. Browsers send no
// credentials with one, by design.
func isPreflight(r *http.Request) bool {
	return r.Header.Get("X-Forwarded-Method") == http.MethodOptions &&
		r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}

// plexDecides answers the request when it carries a Plex token (or
// conflicting or malformed ones: 401) and reports whether it did.
func (s *Server) plexDecides(w http.ResponseWriter, r *http.Request) bool {
	tok, err := plex.Extract(r.Header, r.Header.Get("X-Forwarded-Uri"))
	switch {
	case err != nil:
		s.countPlex("conflict")
		plexUnauthorized(w, "unauthorized: conflicting or malformed Plex tokens")
		return true
	case tok == "":
		return false
	}
	s.validatePlex(w, r, tok)
	return true
}

// validatePlex answers /validate for a request authenticated by a Plex
// token: 2xx with the identity and how long it may be cached, 401 (never a
// redirect: apps cannot follow one), 403, or 503 when no verdict could be had.
func (s *Server) validatePlex(w http.ResponseWriter, r *http.Request, tok string) {
	g := s.plex
	v, err := g.verifier.Verify(r.Context(), tok)
	if err != nil {
		s.countPlex("unavailable")
		s.log.Debug("plex token: no verdict", "err", err) // the outage itself is logged once, by plex
		w.Header().Set("Retry-After", "5")
		http.Error(w, "service unavailable: plex.tv gave no verdict", http.StatusServiceUnavailable)
		return
	}
	switch {
	case v.Outcome == plex.Invalid:
		s.countPlex("invalid")
		plexUnauthorized(w, "unauthorized: Plex token not valid")
	case v.Outcome != plex.Allowed:
		s.countPlex("forbidden")
		http.Error(w, "forbidden", http.StatusForbidden)
	case !v.Identity.Owner && g.paths.Match(r.Header.Get("X-Forwarded-Uri")):
		s.countPlex("forbidden_path")
		http.Error(w, "forbidden: only the server owner's token may use this path", http.StatusForbidden)
	default:
		for name, value := range v.Identity.Headers(g.field) {
			w.Header().Set(name, value)
		}
		w.Header().Set("Cache-Control", "private, max-age="+strconv.Itoa(int(v.MaxAge(s.now())/time.Second)))
		s.countPlex("allowed")
		w.WriteHeader(http.StatusOK)
	}
}

// answerPreflight lets a CORS preflight through to Plex, which answers it:
// 200, no identity, never cached.
func (s *Server) answerPreflight(w http.ResponseWriter) {
	s.countPlex("preflight")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

func plexUnauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="plexgate"`)
	http.Error(w, msg, http.StatusUnauthorized)
}

func (s *Server) countPlex(result string) {
	s.metrics.plex.WithLabelValues(result).Inc()
}
