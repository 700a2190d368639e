package config

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/traefik/paerser/file"
	"github.com/traefik/traefik/v3/pkg/config/dynamic"
	"github.com/traefik/traefik/v3/pkg/config/static"
	fileprovider "github.com/traefik/traefik/v3/pkg/provider/file"
	"github.com/traefik/traefik/v3/pkg/safe"
)

// variables are the PLEXGATE_* environment variables the dynamic files read,
// with the defaults the files fall back to when a variable is unset.
var variables = map[string]string{
	"PLEXGATE_PLEX_HOST":           "plex.example.com",
	"PLEXGATE_AUTH_HOST":           "auth.example.com",
	"PLEXGATE_PLEX_URL":            "http://plex:32400",
	"PLEXGATE_PLEX_TLS_ADDRESS":    "plex:32400",
	"PLEXGATE_PLEX_DIRECT":         "false",
	"PLEXGATE_FORWARDAUTH_URL":     "http://forwardauth:4181",
	"PLEXGATE_PUBLIC_URL":          "https://auth.example.com",
	"PLEXGATE_SESSION_ISSUER":      "https://auth.example.com",
	"PLEXGATE_SESSION_AUDIENCE":    "plexgate",
	"PLEXGATE_SESSION_COOKIE_NAME": "plexgate_session",
}

// repoPath returns the path of name relative to the repository root.
func repoPath(name string) string {
	_, here, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(here), "..", "..", name)
}

// setVariables sets every PLEXGATE_* variable for the test: the value in env,
// or empty (which the templates treat as unset) when env has none.
func setVariables(t *testing.T, env map[string]string) {
	t.Helper()
	for name := range variables {
		t.Setenv(name, env[name])
	}
}

// loadDynamic renders and decodes the dynamic/ directory exactly as Traefik's
// file provider does, with the process environment as it is.
func loadDynamic(dir string) (*dynamic.Configuration, error) {
	provider := &fileprovider.Provider{Directory: dir, Watch: false}
	if err := provider.Init(); err != nil {
		return nil, fmt.Errorf("file provider init: %w", err)
	}
	messages := make(chan dynamic.Message, 1)
	pool := safe.NewPool(context.Background())
	defer pool.Stop()
	if err := provider.Provide(messages, pool); err != nil {
		return nil, fmt.Errorf("file provider: %w", err)
	}
	select {
	case msg := <-messages:
		return msg.Configuration, nil
	case <-time.After(10 * time.Second):
		return nil, fmt.Errorf("file provider sent no configuration for %s", dir)
	}
}

// mustLoadDynamic is loadDynamic for tests that need the configuration.
func mustLoadDynamic(t *testing.T, env map[string]string) *dynamic.Configuration {
	t.Helper()
	setVariables(t, env)
	conf, err := loadDynamic(repoPath("dynamic"))
	if err != nil {
		t.Fatalf("loading dynamic/: %v", err)
	}
	return conf
}

// loadStatic decodes a static configuration file as `traefik --configFile` does.
func loadStatic(t *testing.T, name string) *static.Configuration {
	t.Helper()
	conf := &static.Configuration{}
	if err := file.Decode(repoPath(name), conf); err != nil {
		t.Fatalf("decoding %s: %v", name, err)
	}
	return conf
}
