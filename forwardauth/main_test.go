package main

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plexgate/plexgate/forwardauth/session"
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

// writeKey writes a fresh signing key, as forwardauth -genkey prints it.
func writeKey(t *testing.T) string {
	t.Helper()
	pemData, err := session.GenerateKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, "signing.pem", string(pemData))
}

func TestCheckCommand(t *testing.T) {
	key := writeKey(t)
	goodFile := writeFile(t, "good.yml", "public_url: https://auth.example.com\noidc:\n  issuer: https://idp.example.com/oauth2/default\n  client_id: c\n  client_secret_file: "+
		writeFile(t, "secret", "s3cret\n")+"\nsession:\n  signing_key_file: "+key+"\nauthz:\n  allow_all: true\n")
	tests := []struct {
		name string
		args []string
		env  map[string]string
		code int
		out  string
	}{
		{"valid file", []string{"-check", "-config", goodFile}, nil, 0, "configuration OK"},
		{"empty config lists problems", []string{"-check"}, nil, 1, "oidc.client_id"},
		{"missing key file", []string{"-check", "-config", goodFile, "-session.signing_key_file", "/nonexistent.pem"}, nil, 1, "session.signing_key_file"},
		{"config path from env", []string{"-check"}, map[string]string{"PLEXGATE_CONFIG": goodFile}, 0, "configuration OK"},
		{"bool flag alone", []string{"-check", "-config", goodFile, "-oidc.use_userinfo"}, nil, 0, "configuration OK"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr, mapEnv(tt.env))
			if code != tt.code || !strings.Contains(stdout.String()+stderr.String(), tt.out) {
				t.Fatalf("exit %d out %q err %q", code, stdout.String(), stderr.String())
			}
		})
	}
}

func TestGenkeyPrintsEd25519Key(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-genkey"}, &stdout, &stderr, noEnv); code != 0 {
		t.Fatalf("exit %d", code)
	}
	block, _ := pem.Decode(stdout.Bytes())
	if block == nil || block.Type != "PRIVATE KEY" {
		t.Fatalf("no PEM: %q", stdout.String())
	}
	if _, err := x509.ParsePKCS8PrivateKey(block.Bytes); err != nil {
		t.Fatal(err)
	}
}

func TestImportVouchCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-import-vouch", "vouch/testdata/vouch-okta.yml"}, &stdout, &stderr, noEnv); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "# plexgate forwardauth config imported from Vouch Proxy") {
		t.Fatalf("output %q", stdout.String())
	}
	if code := run([]string{"-import-vouch", "vouch/testdata/missing.yml"}, &stdout, &stderr, noEnv); code != 1 {
		t.Fatalf("missing file: exit %d, want 1", code)
	}
}

// -check warns, naming the fix, when the Plex host (PLEXGATE_PLEX_HOST)
// would get 400 from /validate for want of a cookie domain, and does not
// say configuration OK; with the cookie domain it does.
func TestCheckWarnsWhenThePlexHostIsNotCovered(t *testing.T) {
	cfg := "public_url: https://auth.example.com\noidc:\n  issuer: https://idp.example.com/oauth2/default\n  client_id: c\n  client_secret_file: " +
		writeFile(t, "secret", "s3cret\n") + "\nsession:\n  signing_key_file: " + writeKey(t) + "\nauthz:\n  allow_all: true\n"
	file := writeFile(t, "forwardauth.yml", cfg)
	env := map[string]string{"PLEXGATE_PLEX_HOST": "plex.example.com"}
	var stdout, stderr bytes.Buffer
	code := run([]string{"-check", "-config", file}, &stdout, &stderr, mapEnv(env))
	out := stdout.String() + stderr.String()
	if code != 0 || strings.Contains(out, "configuration OK") || !strings.Contains(out, "warnings") || !strings.Contains(out, `set it to "example.com"`) ||
		!strings.Contains(out, "not on an allowed domain") {
		t.Errorf("without cookie domain: exit %d, output %q; want 0 and warnings naming the 400 and session.cookie_domain example.com", code, out)
	}
	stdout.Reset()
	env["PLEXGATE_SESSION_COOKIE_DOMAIN"] = "example.com"
	if code := run([]string{"-check", "-config", file}, &stdout, &stderr, mapEnv(env)); code != 0 || !strings.Contains(stdout.String(), "configuration OK") {
		t.Errorf("with cookie domain: exit %d, output %q; want configuration OK", code, stdout.String())
	}
}

// The import's output passes forwardauth -check, in both Vouch layouts.
func TestImportVouchOutputPassesCheck(t *testing.T) {
	for _, fixture := range []string{"vouch/testdata/vouch-okta.yml", "vouch/testdata/vouch-guide-okta.yml"} {
		t.Run(filepath.Base(fixture), func(t *testing.T) {
			var imported, stderr bytes.Buffer
			if code := run([]string{"-import-vouch", fixture}, &imported, &stderr, noEnv); code != 0 {
				t.Fatalf("-import-vouch exit %d: %s", code, stderr.String())
			}
			path := writeFile(t, "imported.yml", imported.String())
			var stdout bytes.Buffer
			stderr.Reset()
			args := []string{"-check", "-config", path, "-session.signing_key_file", writeKey(t)}
			if code := run(args, &stdout, &stderr, noEnv); code != 0 || !strings.Contains(stdout.String(), "configuration OK") {
				t.Fatalf("-check exit %d: %s%s\n%s", code, stdout.String(), stderr.String(), imported.String())
			}
		})
	}
}

// -check (and start-up, which builds the same way) lists the file's unknown
// keys and wrong types together with the values' problems, one line each.
func TestCheckCommandReportsEveryProblemByPath(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"-check", "-config", "config/testdata/every-problem.yml"}, &stdout, &stderr, noEnv)
	if code != 1 {
		t.Fatalf("exit %d, want 1: %s", code, stdout.String())
	}
	for _, line := range []string{
		"  - cookie: unknown key (did you mean session.cookie_name?)\n",
		"  - session.cookie_nme: unknown key (did you mean session.cookie_name?)\n",
		"  - session.max_age: \"abc\" is not a duration (e.g. 12h, 30m, 90s)\n",
		"  - oidc.client_id: is required\n",
		"  - log.format: \"xml\" must be text or json\n",
	} {
		if !strings.Contains(stderr.String(), line) {
			t.Errorf("stderr has no line %q:\n%s", line, stderr.String())
		}
	}
}
