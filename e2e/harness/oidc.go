package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// providerStartTimeout bounds how long node may take to serve discovery.
const providerStartTimeout = 30 * time.Second

// User is a test user of the OpenID provider.
type User struct {
	// Username and Password are what the login form checks.
	Username string `json:"username"`
	Password string `json:"password"`
	// Email and Name go into the ID token.
	Email string `json:"email"`
	Name  string `json:"name"`
	// Groups is the groups claim.
	Groups []string `json:"groups"`
	// OTP is the one-time code asked after the password; empty means the
	// user has no second factor (amr ["pwd"] instead of ["pwd","mfa"]).
	OTP string `json:"otp"`
}

// Test users. The passwords and codes are test data, used only against the
// local provider.
var (
	// Alice is allowed: group plex-users, with MFA.
	Alice = User{"alice", "alice-password", "alice@plexgate.localhost", "Alice Example", []string{"plex-users"}, "246810"}
	// Mallory is signed in with MFA but in no allowed group.
	Mallory = User{"mallory", "mallory-password", "mallory@plexgate.localhost", "Mallory Example", []string{"guests"}, "135790"}
	// Bob is in plex-users but has no second factor.
	Bob = User{"bob", "bob-password", "bob@plexgate.localhost", "Bob Example", []string{"plex-users"}, ""}
)

// AllowedGroup is the group forwardauth requires in the tests and demo.
const AllowedGroup = "plex-users"

// OIDCClient is the confidential client registered at the provider.
type OIDCClient struct {
	// ID and Secret authenticate the client; RedirectURIs and
	// PostLogoutRedirectURIs are the registered return addresses.
	ID                     string   `json:"client_id"`
	Secret                 string   `json:"client_secret"`
	RedirectURIs           []string `json:"redirect_uris"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris,omitempty"`
}

// Provider is the running OpenID provider (e2e/node/provider.mjs).
type Provider struct {
	// Issuer is http://localhost:<port>/oauth2/default ("localhost"
	// resolves to loopback in browsers and in Go without any DNS).
	Issuer string
	proc   *Process
}

// StartProvider runs provider.mjs with the client and users.
func StartProvider(ctx context.Context, paths Paths, runDir string, port int, client OIDCClient, users []User) (*Provider, error) {
	issuer := fmt.Sprintf("http://localhost:%d/oauth2/default", port)
	conf, _ := json.Marshal(map[string]any{
		"issuer": issuer, "listen": fmt.Sprintf("127.0.0.1:%d", port),
		"clients": []OIDCClient{client}, "users": users,
	})
	confPath := filepath.Join(runDir, "provider.json")
	if err := os.WriteFile(confPath, conf, 0o600); err != nil {
		return nil, fmt.Errorf("harness: provider config: %w", err)
	}
	proc, err := StartProcess(ProcessSpec{
		Name: "provider", Path: "node", Args: []string{filepath.Join(paths.Node(), "provider.mjs"), confPath},
		Dir: paths.Node(), LogDir: runDir,
	})
	if err != nil {
		return nil, err
	}
	p := &Provider{Issuer: issuer, proc: proc}
	client2 := &http.Client{Timeout: 2 * time.Second}
	discovery := issuer + "/.well-known/openid-configuration"
	err = proc.WaitUntil(ctx, providerStartTimeout, "serve "+discovery, func(ctx context.Context) error {
		_, err := httpGet(ctx, client2, discovery)
		return err
	})
	if err != nil {
		proc.Stop()
		return nil, err
	}
	return p, nil
}

// Stop stops the provider.
func (p *Provider) Stop() { p.proc.Stop() }
