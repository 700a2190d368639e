package harness

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/plexgate/plexgate/e2e/plexstub"
)

// Host names: browsers resolve *.localhost to loopback by themselves, the
// harness maps them in Chromium and in its Go dialers, and challtestsrv
// answers them with 127.0.0.1 for Pebble.
const (
	// Domain is the session cookie's domain.
	Domain = "plexgate.localhost"
	// PlexHost is the gated Plex host.
	PlexHost = "plex." + Domain
	// AuthHost is forwardauth's public host.
	AuthHost = "auth." + Domain
	// CookieName is the session cookie (forwardauth's and the plugin's default).
	CookieName = "plexgate_session"
)

// Ports places the stack; 0 means a free port.
type Ports struct {
	// Web, Websecure, Plex and Metrics are Traefik's entrypoints.
	Web, Websecure, Plex, Metrics int
	// Provider is the OpenID provider's; Forwardauth forwardauth's; PlexStub the stand-in Plex's.
	Provider, Forwardauth, PlexStub int
	// Pebble, PebbleManagement, DNS and DNSManagement are Pebble's and challtestsrv's.
	Pebble, PebbleManagement, DNS, DNSManagement int
}

// Stack is every part of plexgate running on 127.0.0.1. Start it with
// StartStack and stop it with Stop.
type Stack struct {
	// Paths locates the repository and tools.
	Paths Paths
	// Ports are the ports in use (free ports filled in).
	Ports Ports
	// RunDir holds every log and generated file of this run.
	RunDir string
	// Client is the OIDC client registered at the provider for forwardauth.
	Client OIDCClient
	// Pebble is the ACME server; Provider the OpenID provider; Plex the
	// stand-in Plex (in this process); Forwardauth and Traefik the gate.
	Pebble      *Pebble
	Provider    *Provider
	Plex        *plexstub.Server
	Forwardauth *Forwardauth
	Traefik     *Traefik

	stops []func()
}

// StartStack starts Pebble, the provider, the stand-in Plex, forwardauth
// and Traefik, in that order, and waits until Traefik serves the ACME
// certificates for PlexHost and AuthHost. runDir receives every log and generated file.
// On error, whatever started is stopped again.
func StartStack(ctx context.Context, paths Paths, ports Ports, runDir string) (*Stack, error) {
	p := &ports
	if err := freePorts(&p.Web, &p.Websecure, &p.Plex, &p.Metrics, &p.Provider, &p.Forwardauth,
		&p.PlexStub, &p.Pebble, &p.PebbleManagement, &p.DNS, &p.DNSManagement); err != nil {
		return nil, err
	}
	s := &Stack{Paths: paths, Ports: ports, RunDir: runDir}
	s.Client = OIDCClient{ID: "plexgate", Secret: randomSecret(), RedirectURIs: []string{s.AuthURL("/auth")},
		PostLogoutRedirectURIs: []string{s.AuthURL("/signed-out")}}
	steps := []func(context.Context) error{s.startPebble, s.startProvider, s.startPlex, s.startForwardauth, s.startTraefik}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			s.Stop()
			return nil, fmt.Errorf("%w\n(logs in %s)", err, runDir)
		}
	}
	return s, nil
}

func (s *Stack) startPebble(ctx context.Context) error {
	pb, err := StartPebble(ctx, s.Paths, s.RunDir, PebbleConfig{
		Port: s.Ports.Pebble, ManagementPort: s.Ports.PebbleManagement, DNSPort: s.Ports.DNS,
		DNSManagementPort: s.Ports.DNSManagement, TLSPort: s.Ports.Websecure, HTTPPort: s.Ports.Web,
	})
	if err == nil {
		s.Pebble = pb
		s.stops = append(s.stops, pb.Stop)
	}
	return err
}

func (s *Stack) startProvider(ctx context.Context) error {
	p, err := StartProvider(ctx, s.Paths, s.RunDir, s.Ports.Provider, s.Client, []User{Alice, Mallory, Bob})
	if err == nil {
		s.Provider = p
		s.stops = append(s.stops, p.Stop)
	}
	return err
}

func (s *Stack) startPlex(context.Context) error {
	logFile, err := os.Create(filepath.Join(s.RunDir, "plexstub.log"))
	if err != nil {
		return fmt.Errorf("harness: plexstub log: %w", err)
	}
	plex, err := plexstub.New(plexstub.Options{Logger: slog.New(slog.NewTextHandler(logFile, nil))})
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", s.PlexAddr())
	if err != nil {
		return fmt.Errorf("harness: plexstub: %w", err)
	}
	go plex.Serve(l)
	s.Plex = plex
	s.stops = append(s.stops, func() { plex.Close(); logFile.Close() })
	return nil
}

func (s *Stack) startForwardauth(ctx context.Context) error {
	bin, err := BuildForwardauth(ctx, s.Paths, s.RunDir)
	if err != nil {
		return err
	}
	f, err := StartForwardauth(ctx, bin, s.RunDir, ForwardauthConfig{
		Port: s.Ports.Forwardauth, PublicURL: s.AuthURL(""), CookieDomain: Domain,
		Issuer: s.Provider.Issuer, Client: s.Client,
	})
	if err == nil {
		s.Forwardauth = f
		s.stops = append(s.stops, func() { s.Forwardauth.Stop() })
	}
	return err
}

func (s *Stack) startTraefik(ctx context.Context) error {
	p := s.Ports
	ports := map[string]int{"web": p.Web, "websecure": p.Websecure, "plex": p.Plex, "metrics": p.Metrics}
	static, err := siteStatic(s.Paths, ports, filepath.Join(s.RunDir, "traefik"), s.Pebble.DirectoryURL,
		filepath.Join(s.Paths.Root, "dynamic"))
	if err != nil {
		return err
	}
	t, err := StartTraefik(ctx, s.Paths, TraefikSpec{Name: "traefik", RunDir: s.RunDir, Static: static, Env: s.traefikEnv()})
	if err != nil {
		return err
	}
	s.Traefik = t
	s.stops = append(s.stops, t.Stop)
	for _, host := range []string{PlexHost, AuthHost} {
		if _, err := t.AwaitCertificate(ctx, s.WebsecureAddr(), host, s.Pebble.Root); err != nil {
			return err
		}
	}
	return nil
}

// traefikEnv is Traefik's environment: LEGO_CA_CERTIFICATES (Pebble's
// listener) and the PLEXGATE_* variables that dynamic/*.yml reads.
func (s *Stack) traefikEnv() map[string]string {
	plex := s.PlexAddr()
	return map[string]string{
		"LEGO_CA_CERTIFICATES":      s.Pebble.ListenerCA,
		"PLEXGATE_PLEX_HOST":        PlexHost,
		"PLEXGATE_AUTH_HOST":        AuthHost,
		"PLEXGATE_PLEX_URL":         "http://" + plex,
		"PLEXGATE_PLEX_TLS_ADDRESS": plex, // the stand-in serves TLS and plain HTTP on one port, like Plex
		// The suite checks the passthrough itself; e2e/config checks that
		// it is off by default.
		"PLEXGATE_PLEX_DIRECT":         "true",
		"PLEXGATE_FORWARDAUTH_URL":     s.Forwardauth.URL,
		"PLEXGATE_PUBLIC_URL":          s.AuthURL(""),
		"PLEXGATE_SESSION_COOKIE_NAME": CookieName,
	}
}

// Stop stops everything StartStack started, in reverse order.
func (s *Stack) Stop() {
	for i := len(s.stops) - 1; i >= 0; i-- {
		s.stops[i]()
	}
	s.stops = nil
}

// PlexURL is the gated Plex URL for path (https, websecure entrypoint).
func (s *Stack) PlexURL(path string) string {
	return "https://" + PlexHost + ":" + strconv.Itoa(s.Ports.Websecure) + path
}

// AuthURL is forwardauth's public URL for path.
func (s *Stack) AuthURL(path string) string {
	return "https://" + AuthHost + ":" + strconv.Itoa(s.Ports.Websecure) + path
}

// WebsecureAddr is Traefik's websecure entrypoint.
func (s *Stack) WebsecureAddr() string { return "127.0.0.1:" + strconv.Itoa(s.Ports.Websecure) }

// PlexEntrypointAddr is Traefik's plex entrypoint (Plex's 32400).
func (s *Stack) PlexEntrypointAddr() string { return "127.0.0.1:" + strconv.Itoa(s.Ports.Plex) }

// PlexAddr is the stand-in Plex's own address.
func (s *Stack) PlexAddr() string { return "127.0.0.1:" + strconv.Itoa(s.Ports.PlexStub) }

// HTTPClient dials every name on 127.0.0.1, trusts only Pebble's root and
// follows no redirects.
func (s *Stack) HTTPClient() *http.Client { return NewClient(s.Pebble.Root) }

// NewRunDir makes a fresh directory under base for one run's logs and files.
func NewRunDir(base string) (string, error) {
	dir := filepath.Join(base, "run-"+time.Now().UTC().Format("20060102-150405")+"-"+strconv.Itoa(os.Getpid()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("harness: run dir: %w", err)
	}
	return dir, nil
}

func randomSecret() string { return rand.Text() + rand.Text() }
