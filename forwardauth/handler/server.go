package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Server is the forwardauth HTTP service. It keeps no session state: any
// number of replicas with the same keys serve the same cookies.
type Server struct {
	cfg       Config
	log       *slog.Logger
	now       func() time.Time
	keys      *keySet
	sessions  *sessions
	states    *states
	provider  *provider
	authz     *authorizer
	redirects *redirects
	cache     *tokenCache
	metrics   *metrics
	public    *url.URL // public_url without trailing slash
	jwks      []byte
	mux       *http.ServeMux
}

var _ http.Handler = (*Server)(nil)

// newServer builds a Server from a validated config, reading keys and
// secrets from their files. now nil means time.Now.
func newServer(cfg Config, log *slog.Logger, now func() time.Time) (*Server, error) {
	if now == nil {
		now = time.Now
	}
	var p problems
	keys, err := loadKeys(cfg.Session)
	if err != nil {
		p = append(p, problemsOf(err)...)
	}
	secret, err := secretValue(cfg.OIDC.ClientSecret, cfg.OIDC.ClientSecretFile)
	if err != nil {
		p.addf("oidc.client_secret_file", "%v", err)
	}
	client, err := newHTTPClient(cfg.OIDC.CAFile)
	if err != nil {
		p.addf("oidc.ca_file", "%v", err)
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	public, _ := url.Parse(strings.TrimSuffix(cfg.PublicURL, "/")) // checked by validate
	issuer := cfg.Session.Issuer
	if issuer == "" {
		issuer = public.String()
	}
	s := &Server{
		cfg: cfg, log: log, now: now, keys: keys, public: public, jwks: keys.jwks(),
		sessions:  newSessions(keys, cfg.Session, issuer, now),
		states:    newStates(keys, issuer, cfg.Session.Audience, now),
		authz:     newAuthorizer(cfg.Authz),
		redirects: newRedirects(cfg.Redirect.AllowedDomains, cfg.Session.CookieDomain, public.Hostname()),
		cache:     newTokenCache(10000, now),
		metrics:   newMetrics(),
	}
	s.provider = &provider{issuer: cfg.OIDC.Issuer, client: client, now: now, log: log,
		oauth: oauth2.Config{ClientID: cfg.OIDC.ClientID, ClientSecret: string(secret),
			RedirectURL: s.path("/auth"), Scopes: cfg.OIDC.Scopes}}
	s.mux = s.routes()
	return s, nil
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
	if _, err := s.provider.get(r.Context()); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "oidc provider not discovered yet")
		return
	}
	fmt.Fprintln(w, "ready")
}

func (s *Server) handleSignedOut(w http.ResponseWriter, _ *http.Request) {
	writePage(w, http.StatusOK, pageData{Title: "Signed out", Message: "You are signed out."})
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
