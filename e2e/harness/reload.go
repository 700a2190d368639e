package harness

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
)

// reloadThrottle replaces Traefik's providersThrottleDuration (2s) in the
// reload instance, so that a hundred reloads take seconds, not minutes.
const reloadThrottle = "100ms"

// RestartProvider stops the OpenID provider and starts it again on the same
// port with the same client and users. The new process generates a new
// signing key, so a restart is also a key rotation at the provider.
func (s *Stack) RestartProvider(ctx context.Context) error {
	s.Provider.Stop()
	p, err := StartProvider(ctx, s.Paths, s.RunDir, s.Ports.Provider, s.Client, []User{Alice, Mallory, Bob})
	if err != nil {
		return err
	}
	s.Provider = p
	s.stops = append(s.stops, p.Stop)
	return nil
}

// ReloadTraefik is a second Traefik in front of the same forwardauth and
// stand-in Plex whose file provider reads a private copy of dynamic/, so
// that a test can rewrite its dynamic configuration. It has no ACME
// certificate: it serves Traefik's default one.
type ReloadTraefik struct {
	*Traefik
	// DynamicDir is the directory its file provider watches.
	DynamicDir string
	// WebsecurePort and MetricsPort are its websecure and metrics entrypoints.
	WebsecurePort, MetricsPort int
}

// StartReloadTraefik starts a ReloadTraefik next to the stack's parts:
// the shipped static configuration on free ports, reading its own copy of
// dynamic/, with a short provider throttle.
func (s *Stack) StartReloadTraefik(ctx context.Context) (*ReloadTraefik, error) {
	const name = "traefik-reload"
	dir := filepath.Join(s.RunDir, name)
	dyn := filepath.Join(dir, "dynamic")
	if err := copyDir(filepath.Join(s.Paths.Root, "dynamic"), dyn); err != nil {
		return nil, err
	}
	// Its ACME orders fail (Pebble validates on the stack's own Traefik):
	// it serves Traefik's default certificate, and logs the failures.
	return s.startOwnDynamic(ctx, name, dir, dyn, nil)
}

// startOwnDynamic starts a ReloadTraefik named name in dir: the shipped
// static configuration on free ports, its file provider reading dyn with a
// short throttle, tweak (when not nil) applied last; it returns once the
// Plex router is in place.
func (s *Stack) startOwnDynamic(ctx context.Context, name, dir, dyn string, tweak func(*Static)) (*ReloadTraefik, error) {
	var web, websecure, plex, metrics int
	if err := freePorts(&web, &websecure, &plex, &metrics); err != nil {
		return nil, err
	}
	ports := map[string]int{"web": web, "websecure": websecure, "plex": plex, "metrics": metrics}
	static, err := siteStatic(s.Paths, ports, dir, s.Pebble.DirectoryURL, dyn)
	if err != nil {
		return nil, err
	}
	static.Providers.ProvidersThrottleDuration = reloadThrottle
	if tweak != nil {
		tweak(static)
	}
	tr, err := StartTraefik(ctx, s.Paths, TraefikSpec{Name: name, RunDir: s.RunDir, Static: static, Env: s.traefikEnv()})
	if err != nil {
		return nil, err
	}
	t := &ReloadTraefik{Traefik: tr, DynamicDir: dyn, WebsecurePort: websecure, MetricsPort: metrics}
	if err := t.awaitPlexRouter(ctx); err != nil {
		tr.Stop()
		return nil, err
	}
	return t, nil
}

// awaitPlexRouter waits until the file provider's routers are in place:
// /ping answers before, and until then Traefik answers 404 for the Plex host.
func (t *ReloadTraefik) awaitPlexRouter(ctx context.Context) error {
	probe := t.URL(PlexHost, "/")
	client := t.Client()
	return t.proc.WaitUntil(ctx, traefikStartTimeout, "route "+probe, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, probe, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound {
			return fmt.Errorf("no router yet: %s", resp.Status)
		}
		return nil
	})
}

// URL is https://host:<its websecure port>path.
func (t *ReloadTraefik) URL(host, path string) string {
	return "https://" + host + ":" + strconv.Itoa(t.WebsecurePort) + path
}

// Client dials every name on 127.0.0.1 and accepts Traefik's default
// certificate (this instance has no ACME certificate); it follows no
// redirects.
func (t *ReloadTraefik) Client() *http.Client {
	return &http.Client{
		Timeout: clientTimeout,
		Transport: &http.Transport{
			DialContext:     DialLoopback,
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}, // test-only: default certificate
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Metrics scrapes its Prometheus endpoint.
func (t *ReloadTraefik) Metrics(ctx context.Context) (Metrics, error) {
	return ReadMetrics(ctx, "http://"+net.JoinHostPort("127.0.0.1", strconv.Itoa(t.MetricsPort))+"/metrics")
}

// copyDir copies the regular files of src into dst.
func copyDir(src, dst string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return fmt.Errorf("harness: %w", err)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return fmt.Errorf("harness: %w", err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return fmt.Errorf("harness: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644); err != nil {
			return fmt.Errorf("harness: %w", err)
		}
	}
	return nil
}

// NewForwardauthKey writes a fresh Ed25519 signing key (forwardauth
// -genkey) to name in the run directory and returns its path.
func (s *Stack) NewForwardauthKey(ctx context.Context, name string) (string, error) {
	key, err := exec.CommandContext(ctx, s.Forwardauth.binary, "-genkey").Output()
	if err != nil {
		return "", fmt.Errorf("harness: forwardauth -genkey: %w", err)
	}
	path := filepath.Join(s.RunDir, name)
	if err := os.WriteFile(path, key, 0o600); err != nil {
		return "", fmt.Errorf("harness: %w", err)
	}
	return path, nil
}

// ForwardauthKey is the signing key the stack started with.
func (s *Stack) ForwardauthKey() string { return filepath.Join(s.RunDir, "session.pem") }

// RestartForwardauthWithKeys rewrites forwardauth's config to sign with
// signing and also accept verification, then restarts it.
func (s *Stack) RestartForwardauthWithKeys(ctx context.Context, signing string, verification []string) error {
	return s.Forwardauth.RestartWithKeys(ctx, signing, verification)
}

// setKeys rewrites f's config file: sign with signing, also accept verification.
func (f *Forwardauth) setKeys(signing string, verification []string) error {
	data, err := os.ReadFile(f.configPath)
	if err != nil {
		return fmt.Errorf("harness: %w", err)
	}
	var conf map[string]any
	if err := json.Unmarshal(data, &conf); err != nil {
		return fmt.Errorf("harness: forwardauth config: %w", err)
	}
	session, _ := conf["session"].(map[string]any)
	if session == nil {
		return fmt.Errorf("harness: forwardauth config has no session section")
	}
	session["signing_key_file"], session["verification_key_files"] = signing, verification
	data, _ = json.MarshalIndent(conf, "", "  ")
	if err := os.WriteFile(f.configPath, data, 0o600); err != nil {
		return fmt.Errorf("harness: %w", err)
	}
	return nil
}
