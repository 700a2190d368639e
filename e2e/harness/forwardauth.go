package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// forwardauthStartTimeout bounds how long forwardauth may take to answer /healthz.
const forwardauthStartTimeout = 30 * time.Second

// ForwardauthConfig is what the harness puts in forwardauth's config file.
type ForwardauthConfig struct {
	// Port is forwardauth's HTTP port on 127.0.0.1.
	Port int
	// PublicURL is its external URL through Traefik (https://auth.…:<websecure>).
	PublicURL string
	// CookieDomain is the session cookie's Domain.
	CookieDomain string
	// Issuer is the OpenID provider's issuer.
	Issuer string
	// Client is the OIDC client registered at the provider.
	Client OIDCClient
	// Plex, when set, turns Plex tokens on with these settings.
	Plex *ForwardauthPlex
}

// Forwardauth is a running forwardauth built from the repository.
type Forwardauth struct {
	// URL is its internal address (http://127.0.0.1:<port>).
	URL string

	binary, configPath, runDir, keyPath string
	cfg                                 ForwardauthConfig
	starts                              int
	proc                                *Process
}

// BuildForwardauth builds ./forwardauth from the repository root into runDir.
func BuildForwardauth(ctx context.Context, paths Paths, runDir string) (string, error) {
	out := filepath.Join(runDir, "forwardauth")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./forwardauth")
	cmd.Dir = paths.Root
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("harness: go build ./forwardauth: %w\n%s", err, msg)
	}
	return out, nil
}

// StartForwardauth writes a signing key (forwardauth -genkey) and the
// config file, then starts forwardauth and waits for /healthz.
func StartForwardauth(ctx context.Context, binary, runDir string, cfg ForwardauthConfig) (*Forwardauth, error) {
	key, err := exec.CommandContext(ctx, binary, "-genkey").Output()
	if err != nil {
		return nil, fmt.Errorf("harness: forwardauth -genkey: %w", err)
	}
	keyPath := filepath.Join(runDir, "session.pem")
	if err := os.WriteFile(keyPath, key, 0o600); err != nil {
		return nil, fmt.Errorf("harness: session key: %w", err)
	}
	f := &Forwardauth{
		URL: fmt.Sprintf("http://127.0.0.1:%d", cfg.Port), binary: binary, runDir: runDir,
		configPath: filepath.Join(runDir, "forwardauth.yml"), keyPath: keyPath, cfg: cfg,
	}
	if err := f.writeConfig(); err != nil {
		return nil, err
	}
	return f, f.Start(ctx)
}

// writeConfig writes the config file from f.cfg.
func (f *Forwardauth) writeConfig() error {
	file := forwardauthFile(f.cfg, f.keyPath)
	if f.cfg.Plex != nil {
		if err := f.cfg.Plex.addTo(file, f.runDir); err != nil {
			return err
		}
	}
	conf, _ := json.MarshalIndent(file, "", "  ")
	// JSON is YAML: forwardauth reads it as its YAML config file.
	if err := os.WriteFile(f.configPath, conf, 0o600); err != nil {
		return fmt.Errorf("harness: forwardauth config: %w", err)
	}
	return nil
}

// forwardauthFile is the config: alice's group allowed, MFA required.
func forwardauthFile(cfg ForwardauthConfig, keyPath string) map[string]any {
	return map[string]any{
		"listen":     fmt.Sprintf("127.0.0.1:%d", cfg.Port),
		"public_url": cfg.PublicURL,
		"log":        map[string]any{"level": "debug"},
		"oidc": map[string]any{
			"issuer": cfg.Issuer, "client_id": cfg.Client.ID, "client_secret": cfg.Client.Secret,
		},
		"session": map[string]any{"cookie_domain": cfg.CookieDomain, "signing_key_file": keyPath},
		"authz":   map[string]any{"groups": []string{AllowedGroup}, "require_mfa": true},
	}
}

// Start (re)starts the process with the same config and key; sessions
// minted before stay valid.
func (f *Forwardauth) Start(ctx context.Context) error {
	f.starts++
	name := "forwardauth"
	if f.starts > 1 {
		name = fmt.Sprintf("forwardauth-%d", f.starts)
	}
	proc, err := StartProcess(ProcessSpec{
		Name: name, Path: f.binary, Args: []string{"-config", f.configPath}, LogDir: f.runDir,
	})
	if err != nil {
		return err
	}
	f.proc = proc
	client := &http.Client{Timeout: 2 * time.Second}
	err = proc.WaitUntil(ctx, forwardauthStartTimeout, "answer "+f.URL+"/healthz", func(ctx context.Context) error {
		_, err := httpGet(ctx, client, f.URL+"/healthz")
		return err
	})
	if err != nil {
		proc.Stop()
	}
	return err
}

// Stop stops the process.
func (f *Forwardauth) Stop() { f.proc.Stop() }

// Process is the running process (for its log).
func (f *Forwardauth) Process() *Process { return f.proc }
