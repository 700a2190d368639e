package config

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func noEnv(string) (string, bool) { return "", false }

func mapEnv(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestConfigSourcesApplyInOrder(t *testing.T) {
	file := writeFile(t, "fa.yml", "listen: \":1000\"\noidc:\n  client_id: from-file\n  scopes: [openid]\nsession:\n  max_age: 1h\n")
	tests := []struct {
		name  string
		env   map[string]string
		flags map[string]string
		check func(Config) bool
	}{
		{"file over defaults", nil, nil, func(c Config) bool {
			return c.Listen == ":1000" && c.OIDC.ClientID == "from-file" && c.Session.CookieName == "plexgate_session"
		}},
		{"env over file", map[string]string{"PLEXGATE_OIDC_CLIENT_ID": "from-env", "PLEXGATE_SESSION_MAX_AGE": "2h"}, nil, func(c Config) bool {
			return c.OIDC.ClientID == "from-env" && c.Session.MaxAge == 2*time.Hour
		}},
		{"flag over env", map[string]string{"PLEXGATE_OIDC_CLIENT_ID": "from-env"}, map[string]string{"oidc.client_id": "from-flag"}, func(c Config) bool {
			return c.OIDC.ClientID == "from-flag"
		}},
		{"lists, maps and bools from env", map[string]string{"PLEXGATE_AUTHZ_GROUPS": "a, b", "PLEXGATE_HEADERS_CLAIMS": "given_name=X-Given,locale=X-Locale", "PLEXGATE_SESSION_SECURE": "false"}, nil,
			func(c Config) bool {
				return len(c.Authz.Groups) == 2 && c.Authz.Groups[1] == "b" && c.Headers.Claims["locale"] == "X-Locale" && !c.Session.Secure
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(file, mapEnv(tt.env), tt.flags)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(cfg) {
				t.Fatalf("unexpected config %+v", cfg)
			}
		})
	}
}

func TestEveryKeyHasEnvAndFlag(t *testing.T) {
	cfg := Default()
	var fs = newTestFlagSet()
	for _, f := range fields(&cfg) {
		if fs.Lookup(f.path) == nil {
			t.Errorf("no flag -%s", f.path)
		}
	}
	if envName("oidc.client_secret") != "PLEXGATE_OIDC_CLIENT_SECRET" {
		t.Errorf("env name %s", envName("oidc.client_secret"))
	}
}

func TestConfigLoadErrors(t *testing.T) {
	tests := []struct {
		name, file string
		env        map[string]string
		flags      map[string]string
		want       string
	}{
		{"unknown key", "oidc:\n  client_idd: x\n", nil, nil, "client_idd"},
		{"bad duration in env", "", map[string]string{"PLEXGATE_SESSION_MAX_AGE": "forever"}, nil, "PLEXGATE_SESSION_MAX_AGE"},
		{"bad bool flag", "", nil, map[string]string{"session.secure": "maybe"}, "-session.secure"},
		{"bad map", "", map[string]string{"PLEXGATE_HEADERS_CLAIMS": "novalue"}, nil, "PLEXGATE_HEADERS_CLAIMS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeFile(t, "c.yml", tt.file), mapEnv(tt.env), tt.flags)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want mention of %s", err, tt.want)
			}
		})
	}
}

func newTestFlagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	RegisterFlags(fs)
	return fs
}
