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

// TraefikSpec is one Traefik process.
type TraefikSpec struct {
	// Name is its working directory under RunDir (plugins-local,
	// traefik.yml) and its log, RunDir/Name.log.
	Name, RunDir string
	// Static is its static configuration, written to traefik.yml; its ping
	// entrypoint tells when Traefik is up.
	Static *Static
	// Env is added to its environment: the PLEXGATE_* variables that
	// dynamic/ reads, LEGO_CA_CERTIFICATES for the ACME server's listener.
	Env map[string]string
}

// Traefik is the running Traefik.
type Traefik struct {
	// Dir is its working directory (plugins-local, traefik.yml, acme.json).
	Dir  string
	proc *Process
}

// StartTraefik is the one way the harness starts Traefik: it copies the
// plugin under Dir/plugins-local (other local plugins may be put there
// before), writes spec.Static to Dir/traefik.yml, starts Traefik there and
// waits until /ping answers.
func StartTraefik(ctx context.Context, paths Paths, spec TraefikSpec) (*Traefik, error) {
	dir := filepath.Join(spec.RunDir, spec.Name)
	if err := copyPlugin(paths.Root, filepath.Join(dir, "plugins-local", "src", pluginModule)); err != nil {
		return nil, err
	}
	ping, err := spec.Static.PingURL()
	if err != nil {
		return nil, err
	}
	static, err := spec.Static.Marshal()
	if err != nil {
		return nil, err
	}
	staticPath := filepath.Join(dir, "traefik.yml")
	if err := os.WriteFile(staticPath, static, 0o600); err != nil {
		return nil, fmt.Errorf("harness: traefik config: %w", err)
	}
	var env []string
	for k, v := range spec.Env {
		env = append(env, k+"="+v)
	}
	proc, err := StartProcess(ProcessSpec{
		Name: spec.Name, Path: paths.Traefik(), Args: []string{"--configFile=" + staticPath},
		Dir: dir, Env: env, LogDir: spec.RunDir,
	})
	if err != nil {
		return nil, err
	}
	client := &http.Client{Timeout: 2 * time.Second}
	err = proc.WaitUntil(ctx, traefikStartTimeout, "answer "+ping, func(ctx context.Context) error {
		_, err := httpGet(ctx, client, ping)
		return err
	})
	if err != nil {
		proc.Stop()
		return nil, err
	}
	return &Traefik{Dir: dir, proc: proc}, nil
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

// Pid is the process id of the process (the leader of its group).
func (p *Process) Pid() int { return p.cmd.Process.Pid }
