package harness

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// pebbleStartTimeout bounds how long Pebble may take to answer its directory.
const pebbleStartTimeout = 30 * time.Second

// Pebble is a running Pebble ACME server with pebble-challtestsrv as its DNS.
type Pebble struct {
	// DirectoryURL is the ACME directory (Traefik's caServer).
	DirectoryURL string
	// ListenerCA is the PEM file of the CA that signed Pebble's own HTTPS
	// listener (Traefik trusts it through LEGO_CA_CERTIFICATES).
	ListenerCA string
	// Root is the root that issued the ACME certificates, from /roots/0.
	Root *x509.Certificate
	// RootPEM is Root as a PEM file in the run directory.
	RootPEM string

	pebble, dns *Process
}

// PebbleConfig places Pebble.
type PebbleConfig struct {
	// Port is Pebble's ACME port; ManagementPort its management API; DNSPort
	// is challtestsrv's DNS port and DNSManagementPort its management API.
	Port, ManagementPort, DNSPort, DNSManagementPort int
	// TLSPort is where Pebble validates TLS-ALPN-01: Traefik's websecure port.
	TLSPort int
	// HTTPPort is where Pebble validates HTTP-01: Traefik's web port.
	HTTPPort int
}

// StartPebble starts challtestsrv (answering every name with 127.0.0.1) and
// Pebble using it, and fetches Pebble's issuing root.
func StartPebble(ctx context.Context, paths Paths, runDir string, cfg PebbleConfig) (*Pebble, error) {
	modDir, err := paths.goModDir("github.com/letsencrypt/pebble/v2")
	if err != nil {
		return nil, err
	}
	pb := &Pebble{
		DirectoryURL: fmt.Sprintf("https://127.0.0.1:%d/dir", cfg.Port),
		ListenerCA:   filepath.Join(modDir, "test", "certs", "pebble.minica.pem"),
	}
	if pb.dns, err = startChallTestSrv(paths, runDir, cfg); err != nil {
		return nil, err
	}
	if pb.pebble, err = startPebbleProcess(paths, runDir, modDir, cfg); err != nil {
		pb.Stop()
		return nil, err
	}
	if err := pb.awaitRoot(ctx, cfg.ManagementPort, runDir); err != nil {
		pb.Stop()
		return nil, err
	}
	return pb, nil
}

func startChallTestSrv(paths Paths, runDir string, cfg PebbleConfig) (*Process, error) {
	return StartProcess(ProcessSpec{
		Name: "challtestsrv", Path: paths.ChallTestSrv(), LogDir: runDir,
		Args: []string{
			"-defaultIPv4", "127.0.0.1", "-defaultIPv6", "",
			"-dnsserver", fmt.Sprintf("127.0.0.1:%d", cfg.DNSPort),
			"-management", fmt.Sprintf("127.0.0.1:%d", cfg.DNSManagementPort),
			"-http01", "", "-https01", "", "-tlsalpn01", "", "-doh", "",
		},
	})
}

func startPebbleProcess(paths Paths, runDir, modDir string, cfg PebbleConfig) (*Process, error) {
	conf := map[string]any{"pebble": map[string]any{
		"listenAddress":                  "127.0.0.1:" + strconv.Itoa(cfg.Port),
		"managementListenAddress":        "127.0.0.1:" + strconv.Itoa(cfg.ManagementPort),
		"certificate":                    filepath.Join(modDir, "test", "certs", "localhost", "cert.pem"),
		"privateKey":                     filepath.Join(modDir, "test", "certs", "localhost", "key.pem"),
		"httpPort":                       cfg.HTTPPort,
		"tlsPort":                        cfg.TLSPort,
		"ocspResponderURL":               "",
		"externalAccountBindingRequired": false,
	}}
	path := filepath.Join(runDir, "pebble-config.json")
	data, _ := json.MarshalIndent(conf, "", "  ")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return nil, fmt.Errorf("harness: pebble config: %w", err)
	}
	return StartProcess(ProcessSpec{
		Name: "pebble", Path: paths.Pebble(), LogDir: runDir,
		Args: []string{"-config", path, "-dnsserver", fmt.Sprintf("127.0.0.1:%d", cfg.DNSPort)},
		// No random validation delays; no deliberate bad-nonce rejections.
		Env: []string{"PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0"},
	})
}

// awaitRoot waits for the management API and saves the issuing root.
func (pb *Pebble) awaitRoot(ctx context.Context, mgmtPort int, runDir string) error {
	client, err := pb.listenerClient()
	if err != nil {
		return err
	}
	url := fmt.Sprintf("https://127.0.0.1:%d/roots/0", mgmtPort)
	var body []byte
	err = pb.pebble.WaitUntil(ctx, pebbleStartTimeout, "serve its issuing root at "+url, func(ctx context.Context) error {
		body, err = httpGet(ctx, client, url)
		return err
	})
	if err != nil {
		return err
	}
	block, _ := pem.Decode(body)
	if block == nil {
		return fmt.Errorf("harness: pebble root at %s is not PEM", url)
	}
	if pb.Root, err = x509.ParseCertificate(block.Bytes); err != nil {
		return fmt.Errorf("harness: pebble root: %w", err)
	}
	pb.RootPEM = filepath.Join(runDir, "pebble-root.pem")
	return os.WriteFile(pb.RootPEM, body, 0o644)
}

// listenerClient trusts Pebble's own HTTPS listener.
func (pb *Pebble) listenerClient() (*http.Client, error) {
	data, err := os.ReadFile(pb.ListenerCA)
	if err != nil {
		return nil, fmt.Errorf("harness: pebble listener CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("harness: pebble listener CA %s holds no certificate", pb.ListenerCA)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	return &http.Client{Transport: tr, Timeout: 5 * time.Second}, nil
}

// Stop stops Pebble and challtestsrv.
func (pb *Pebble) Stop() {
	pb.pebble.Stop()
	pb.dns.Stop()
}

// httpGet returns the body of a 200 answer.
func httpGet(ctx context.Context, client *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	return body, nil
}
