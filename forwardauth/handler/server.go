// Package handler is forwardauth's HTTP service: the Server and its routes
// (/validate in validate.go, /login and /auth in login.go, /logout,
// the home and status pages, JWKS, health and metrics), the cookies it
// sets, the return-URL check and the cache of verified tokens. It drives
// the packages that hold the logic (session, login, authz) and turns their
// results into HTTP answers, once, at the edge; they know nothing of it.
package handler

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/plexgate/plexgate/forwardauth/authz"
	"github.com/plexgate/plexgate/forwardauth/config"
	"github.com/plexgate/plexgate/forwardauth/login"
	"github.com/plexgate/plexgate/forwardauth/session"
)

// Server is the forwardauth HTTP service. It keeps no session state: any
// number of replicas with the same keys serve the same cookies.
type Server struct {
	cfg       config.Config
	log       *slog.Logger
	now       func() time.Time
	keys      *session.Keys
	sessions  *session.Sessions
	states    *session.States
	used      *login.UsedStates // consumed states, so a replay fails even with the cookie
	provider  *login.Provider
	authz     *authz.Rules
	deny      *authz.DenyList // session.deny_list_file
	redirects *redirects
	cache     *tokenCache
	metrics   *metrics
	badHosts  *hostLimiter // rate-limits the log of /validate's 400s
	plex      *plexGate    // nil unless plex.enabled
	public    *url.URL     // public_url without trailing slash
	jwks      []byte
	mux       *http.ServeMux
}

var _ http.Handler = (*Server)(nil)

// New builds a Server from a checked config (config.Config.Check), reading
// keys and secrets from their files; the problems it returns are a
// *config.Error. log receives every log line. now nil means time.Now.
func New(cfg config.Config, log *slog.Logger, now func() time.Time) (*Server, error) {
	if now == nil {
		now = time.Now
	}
	var p config.Problems
	keys, err := session.LoadKeys(cfg.Session)
	if err != nil {
		p = append(p, config.ProblemsOf(err)...)
	}
	secret, err := config.Secret(cfg.OIDC.ClientSecret, cfg.OIDC.ClientSecretFile)
	if err != nil {
		p.Addf("oidc.client_secret_file", "%v", err)
	}
	client, err := login.NewHTTPClient(cfg.OIDC.CAFile)
	if err != nil {
		p.Addf("oidc.ca_file", "%v", err)
	}
	deny, err := authz.LoadDenyList(cfg.Session.DenyListFile, now, log)
	if err != nil {
		p.Addf("session.deny_list_file", "%v", err)
	}
	owner, err := plexOwnerToken(cfg.Plex)
	if err != nil {
		p.Addf("plex.owner_token_file", "%v", err)
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	public, _ := url.Parse(strings.TrimSuffix(cfg.PublicURL, "/")) // checked by Check
	issuer := cfg.Session.Issuer
	if issuer == "" {
		issuer = public.String()
	}
	s := &Server{
		cfg: cfg, log: log, now: now, keys: keys, public: public, jwks: keys.JWKS(),
		sessions:  session.NewSessions(keys, cfg.Session, issuer, now),
		states:    session.NewStates(keys, issuer, cfg.Session.Audience, cfg.Session.Leeway, now),
		used:      login.NewUsedStates(login.MaxUsedStates),
		authz:     authz.NewRules(cfg.Authz),
		deny:      deny,
		redirects: newRedirects(cfg.Redirect.AllowedDomains, cfg.Session.CookieDomain, public.Hostname()),
		cache:     newTokenCache(10000, now),
		metrics:   newMetrics(),
		badHosts:  newHostLimiter(badHostEvery, maxBadHosts),
	}
	if s.plex, err = newPlexGate(cfg, owner, s); err != nil {
		return nil, &config.Error{Problems: []string{err.Error()}}
	}
	s.provider = login.NewProvider(cfg.OIDC, secret, s.path("/auth"), client, now, log)
	s.mux = s.routes()
	return s, nil
}

// Discover tries the provider's discovery now, so that the first login
// need not wait for it; a failure is logged and retried on demand.
func (s *Server) Discover(ctx context.Context) error {
	_, err := s.provider.Get(ctx)
	return err
}

// NewHTTPServer returns the listening server for h: request headers are
// capped at 64 KB (larger ones get 431) and every phase of a request has a
// timeout.
func NewHTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute,
		MaxHeaderBytes: 64 << 10,
	}
}

// path is an absolute URL under public_url.
func (s *Server) path(p string) string { return s.public.String() + p }

// ServeHTTP routes the endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

func (s *Server) routes() *http.ServeMux {
	m := s.metrics
	base := strings.TrimSuffix(s.public.Path, "/")
	mux := http.NewServeMux()
	mux.Handle(base+"/validate", m.timed("validate", s.handleValidate))
	mux.Handle("GET "+base+"/login", m.timed("login", s.handleLogin))
	mux.Handle("GET "+base+"/auth", m.timed("auth", s.handleCallback))
	mux.Handle(base+"/logout", m.timed("logout", s.handleLogout))
	mux.HandleFunc("GET "+base+"/signed-out", s.handleSignedOut)
	mux.HandleFunc("GET "+base+"/{$}", s.handleHome)
	mux.HandleFunc("GET "+base+"/.well-known/jwks.json", s.handleJWKS)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", s.handleReady)
	mux.Handle("GET /metrics", m.handler())
	return mux
}

func (s *Server) handleJWKS(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(s.jwks)
}

// handleReady answers 200 once provider discovery has succeeded, else 503.
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	if _, err := s.provider.Get(r.Context()); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "oidc provider not discovered yet")
		return
	}
	fmt.Fprintln(w, "ready")
}

// internalError logs err and shows a generic page; err never reaches the user.
func (s *Server) internalError(w http.ResponseWriter, kind string, err error) {
	s.metrics.errors.WithLabelValues(kind).Inc()
	s.log.Error("internal error", "kind", kind, "err", err)
	writePage(w, http.StatusInternalServerError, pageData{Title: "Internal error", Message: "Something went wrong on our side. Try again later."})
}

// badRedirect answers 400 for a return URL that is not allowed.
func badRedirect(w http.ResponseWriter) {
	writePage(w, http.StatusBadRequest, pageData{Title: "Bad request", Message: "The return address is not allowed."})
}
