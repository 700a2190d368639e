package plexstub

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// Request is what the stand-in recorded about one request it answered.
type Request struct {
	// Method, Host and Path of the request.
	Method, Host, Path string
	// TLS tells whether the request came over TLS.
	TLS bool
	// User is the X-Forwarded-User header it carried ("" when absent).
	User string
	// IdentityHeaders are the headers whose names look like identity headers.
	IdentityHeaders map[string][]string
	// TokenKind is the kind of Plex token it carried (KindNone, KindAccount,
	// KindShare, KindTransient, KindInvalid); the token itself is not kept.
	TokenKind string
}

// Server is the stand-in Plex Media Server. Create it with New.
type Server struct {
	// Logger receives one line per request; nil discards.
	Logger *slog.Logger

	certs      *certificates
	handler    http.Handler
	tokenKind  func(string) string
	ownerToken string
	mu         sync.Mutex
	seen       []Request
	transient  map[string]bool
	srv        *http.Server
}

// Options configure New.
type Options struct {
	// Logger receives one line per request; nil discards.
	Logger *slog.Logger
	// Now is the clock for certificate validity; nil means time.Now.
	Now func() time.Time
	// TokenKind tells which Plex tokens plex.tv knows ("account", "share",
	// or "" for unknown; PlexTV.TokenKind). When set, every path but
	// /identity, /web and CORS preflights requires a valid token (one it
	// knows, or a transient token minted at /security/token), as Plex does.
	// nil: no path requires a token.
	TokenKind func(token string) string
	// OwnerToken is the owner's token, handed out by /myplex/account.
	OwnerToken string
}

// New makes a stand-in with fresh certificates.
func New(opts Options) (*Server, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	certs, err := newCertificates(now())
	if err != nil {
		return nil, err
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{Logger: logger, certs: certs, tokenKind: opts.TokenKind, ownerToken: opts.OwnerToken, transient: map[string]bool{}}
	s.handler = s.routes()
	return s, nil
}

// Hash is the <hash> of the *.<hash>.plex.direct certificate.
func (s *Server) Hash() string { return s.certs.hash }

// PlexDirectName is a host name the certificate covers, the way Plex
// clients address a server at 127.0.0.1.
func (s *Server) PlexDirectName() string { return "127-0-0-1." + s.certs.hash + ".plex.direct" }

// Certificate is the stand-in's own leaf certificate.
func (s *Server) Certificate() *x509.Certificate { return s.certs.leaf.Leaf }

// CA is the certificate that issued Certificate.
func (s *Server) CA() *x509.Certificate { return s.certs.ca }

// Handler serves the Plex paths (useful with httptest).
func (s *Server) Handler() http.Handler { return s.handler }

// Serve answers plain HTTP and TLS on l until Close.
func (s *Server) Serve(l net.Listener) error {
	config := &tls.Config{Certificates: []tls.Certificate{s.certs.leaf}, MinVersion: tls.VersionTLS12}
	s.mu.Lock()
	s.srv = &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	srv := s.srv
	s.mu.Unlock()
	err := srv.Serve(newSniffListener(l, config))
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("plexstub: serve: %w", err)
}

// Close stops serving and closes every connection, websockets included.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv == nil {
		return nil
	}
	return s.srv.Close()
}

// Requests returns a copy of every request answered so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.seen...)
}

func (s *Server) record(r *http.Request) {
	rec := Request{
		Method: r.Method, Host: r.Host, Path: r.URL.Path, TLS: r.TLS != nil,
		User: r.Header.Get("X-Forwarded-User"), IdentityHeaders: identityHeaders(r.Header),
		TokenKind: s.kindOf(plexRequestToken(r)),
	}
	s.mu.Lock()
	s.seen = append(s.seen, rec)
	s.mu.Unlock()
	s.Logger.Info("plexstub: request", "method", r.Method, "host", r.Host, "path", r.URL.Path, "tls", rec.TLS, "user", rec.User, "token", rec.TokenKind)
}
