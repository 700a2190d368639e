package harness

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Bounded waits for Traefik.
const (
	traefikStartTimeout = 60 * time.Second
	// certificateTimeout bounds the ACME issuance through Pebble.
	certificateTimeout = 90 * time.Second
)

// pluginModule is the plugin's module name (experimental.localPlugins.plexgate.moduleName).
const pluginModule = "github.com/plexgate/plexgate"

// TraefikConfig places Traefik.
type TraefikConfig struct {
	// WebPort, WebsecurePort, PlexPort and MetricsPort are the entrypoints' ports.
	WebPort, WebsecurePort, PlexPort, MetricsPort int
	// CAServer is the ACME directory URL (Pebble's).
	CAServer string
	// CACertificates is the PEM file trusted for the ACME server (LEGO_CA_CERTIFICATES).
	CACertificates string
	// Env holds the PLEXGATE_* variables the dynamic configuration reads.
	Env map[string]string
}

// Traefik is the running Traefik.
type Traefik struct {
	// Dir is its working directory (plugins-local, traefik.yml, acme.json).
	Dir  string
	proc *Process
}

// StartTraefik prepares a work directory with the plugin under
// plugins-local and the shipped static/traefik.yml with only its site
// lines substituted, starts Traefik there and waits for /ping.
func StartTraefik(ctx context.Context, paths Paths, runDir string, cfg TraefikConfig) (*Traefik, error) {
	dir := filepath.Join(runDir, "traefik")
	if err := copyPlugin(paths.Root, filepath.Join(dir, "plugins-local", "src", pluginModule)); err != nil {
		return nil, err
	}
	static, err := staticConfig(paths, dir, cfg)
	if err != nil {
		return nil, err
	}
	staticPath := filepath.Join(dir, "traefik.yml")
	if err := os.WriteFile(staticPath, static, 0o600); err != nil {
		return nil, fmt.Errorf("harness: traefik config: %w", err)
	}
	env := []string{"LEGO_CA_CERTIFICATES=" + cfg.CACertificates}
	for k, v := range cfg.Env {
		env = append(env, k+"="+v)
	}
	proc, err := StartProcess(ProcessSpec{
		Name: "traefik", Path: paths.Traefik(), Args: []string{"--configFile=" + staticPath},
		Dir: dir, Env: env, LogDir: runDir,
	})
	if err != nil {
		return nil, err
	}
	t := &Traefik{Dir: dir, proc: proc}
	ping := fmt.Sprintf("http://127.0.0.1:%d/ping", cfg.MetricsPort)
	client := &http.Client{Timeout: 2 * time.Second}
	err = proc.WaitUntil(ctx, traefikStartTimeout, "answer "+ping, func(ctx context.Context) error {
		_, err := httpGet(ctx, client, ping)
		return err
	})
	if err != nil {
		proc.Stop()
		return nil, err
	}
	return t, nil
}

// staticConfig is static/traefik.yml with each site line replaced;
// a site line that is missing or appears twice is an error.
func staticConfig(paths Paths, dir string, cfg TraefikConfig) ([]byte, error) {
	src := filepath.Join(paths.Root, "static", "traefik.yml")
	data, err := os.ReadFile(src)
	if err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	replace := map[string]string{
		`address: ":80"`:                  fmt.Sprintf(`address: "127.0.0.1:%d"`, cfg.WebPort),
		`address: ":443"`:                 fmt.Sprintf(`address: "127.0.0.1:%d"`, cfg.WebsecurePort),
		`address: ":32400"`:               fmt.Sprintf(`address: "127.0.0.1:%d"`, cfg.PlexPort),
		`address: ":8082"`:                fmt.Sprintf(`address: "127.0.0.1:%d"`, cfg.MetricsPort),
		`email: admin@example.com`:        "email: admin@plexgate.localhost",
		`storage: /letsencrypt/acme.json`: "storage: " + filepath.Join(dir, "acme.json"),
		`caServer: https://acme-v02.api.letsencrypt.org/directory`: "caServer: " + cfg.CAServer,
		`directory: /etc/traefik/dynamic`:                          "directory: " + filepath.Join(paths.Root, "dynamic"),
	}
	seen := map[string]int{}
	lines := strings.Split(string(data), "\n")
	for i, line := range lines {
		trimmed := strings.TrimSpace(line)
		if repl, ok := replace[trimmed]; ok {
			seen[trimmed]++
			lines[i] = line[:len(line)-len(strings.TrimLeft(line, " "))] + repl
		}
	}
	var problems []string
	for old := range replace {
		if seen[old] != 1 {
			problems = append(problems, fmt.Sprintf("site line %q found %d times, want once", old, seen[old]))
		}
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, fmt.Errorf("harness: %s: %s", src, strings.Join(problems, "; "))
	}
	return []byte(strings.Join(lines, "\n")), nil
}

// copyPlugin copies go.mod, .traefik.yml and plugin/*.go (tests excluded)
// to dst, the layout Traefik's local plugin loader expects.
func copyPlugin(root, dst string) error {
	if err := os.MkdirAll(filepath.Join(dst, "plugin"), 0o755); err != nil {
		return fmt.Errorf("harness: plugin copy: %w", err)
	}
	files := []string{"go.mod", ".traefik.yml"}
	sources, _ := filepath.Glob(filepath.Join(root, "plugin", "*.go"))
	for _, s := range sources {
		if !strings.HasSuffix(s, "_test.go") {
			files = append(files, filepath.Join("plugin", filepath.Base(s)))
		}
	}
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			return fmt.Errorf("harness: plugin copy: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dst, f), data, 0o644); err != nil {
			return fmt.Errorf("harness: plugin copy: %w", err)
		}
	}
	return nil
}

// AwaitCertificate waits until Traefik serves, on addr for serverName, a
// certificate that chains to root (the ACME certificate, not Traefik's
// default one), and returns it.
func (t *Traefik) AwaitCertificate(ctx context.Context, addr, serverName string, root *x509.Certificate) (*x509.Certificate, error) {
	var cert *x509.Certificate
	what := fmt.Sprintf("get a certificate for %s from pebble (served on %s)", serverName, addr)
	err := t.proc.WaitUntil(ctx, certificateTimeout, what, func(ctx context.Context) error {
		var err error
		cert, err = PeerCertificate(ctx, addr, TLSConfig(serverName, root))
		return err
	})
	return cert, err
}

// PeerCertificate completes a TLS handshake with addr and returns the leaf.
func PeerCertificate(ctx context.Context, addr string, config *tls.Config) (*x509.Certificate, error) {
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: config}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return conn.(*tls.Conn).ConnectionState().PeerCertificates[0], nil
}

// Stop stops Traefik.
func (t *Traefik) Stop() { t.proc.Stop() }

// Process is the running process (for its log).
func (t *Traefik) Process() *Process { return t.proc }
