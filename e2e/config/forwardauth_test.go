package config

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"go.yaml.in/yaml/v3"
)

var (
	forwardauthOnce sync.Once
	forwardauthBin  string
	forwardauthErr  error
)

// forwardauth builds the forwardauth command of the root module once per
// test binary and returns its path.
func forwardauth(t *testing.T) string {
	t.Helper()
	forwardauthOnce.Do(func() {
		dir, err := os.MkdirTemp("", "plexgate-config-forwardauth-")
		if err != nil {
			forwardauthErr = err
			return
		}
		forwardauthBin = filepath.Join(dir, "forwardauth")
		cmd := exec.Command("go", "build", "-o", forwardauthBin, "./forwardauth")
		cmd.Dir = repoPath(".")
		if out, err := cmd.CombinedOutput(); err != nil {
			forwardauthErr = fmt.Errorf("go build ./forwardauth: %w\n%s", err, out)
		}
	})
	if forwardauthErr != nil {
		t.Fatal(forwardauthErr)
	}
	return forwardauthBin
}

var helpFlag = regexp.MustCompile(`(?m)^  -([A-Za-z0-9_.-]+)`)

// forwardauthFlags returns the flag names `forwardauth -help` lists: the
// commands (-check, -genkey, …) and one flag per configuration key.
func forwardauthFlags(t *testing.T) map[string]bool {
	t.Helper()
	out, _ := exec.Command(forwardauth(t), "-help").CombinedOutput()
	flags := map[string]bool{}
	for _, m := range helpFlag.FindAllStringSubmatch(string(out), -1) {
		flags[m[1]] = true
	}
	if !flags["check"] || !flags["public_url"] {
		t.Fatalf("forwardauth -help lists no -check or -public_url flag:\n%s", out)
	}
	return flags
}

// checkForwardauthYAML runs `forwardauth -check` on a configuration file.
// The secret and key files it names (which exist only on a real host) are
// replaced by generated files of the right kind, and the process gets no
// environment but the shipped Plex host (PLEXGATE_PLEX_HOST, which -check
// uses to warn about cookie domain and allowed domains), so that only the
// file is judged. A report with warnings is an error too.
func checkForwardauthYAML(t *testing.T, body []byte) (string, error) {
	t.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal(body, &doc); err != nil {
		return "", fmt.Errorf("not YAML: %w", err)
	}
	if doc == nil {
		doc = map[string]any{}
	}
	dir := t.TempDir()
	files := fileMaker{t: t, dir: dir}
	section := func(name string) map[string]any {
		m, _ := doc[name].(map[string]any)
		return m
	}
	if o := section("oidc"); o != nil {
		files.replace(o, "client_secret_file", files.secret)
	}
	if s := section("session"); s != nil {
		files.replace(s, "signing_key_file", files.key)
		files.replace(s, "hmac_secret_file", files.secret)
		if list, ok := s["verification_key_files"].([]any); ok {
			for i := range list {
				list[i] = files.key()
			}
		}
	}
	if p := section("plex"); p != nil {
		files.replace(p, "owner_token_file", files.secret)
	}
	out, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "forwardauth.yml")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(forwardauth(t), "-check", "-config", path)
	cmd.Env = []string{"PLEXGATE_PLEX_HOST=" + variables["PLEXGATE_PLEX_HOST"]}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	report := stdout.String() + stderr.String()
	if err != nil {
		return report, fmt.Errorf("forwardauth -check: %w:\n%s", err, report)
	}
	if !strings.Contains(report, "configuration OK") {
		return report, fmt.Errorf("forwardauth -check did not say configuration OK:\n%s", report)
	}
	return report, nil
}

// fileMaker writes the stand-in secret and key files.
type fileMaker struct {
	t   *testing.T
	dir string
	n   int
}

// replace sets m[key] to a new file from make when m names a file there.
func (f *fileMaker) replace(m map[string]any, key string, make func() string) {
	if v, ok := m[key].(string); ok && v != "" {
		m[key] = make()
	}
}

func (f *fileMaker) path() string {
	f.n++
	return filepath.Join(f.dir, fmt.Sprintf("file-%d", f.n))
}

// secret writes a 48-byte secret (long enough for HS256).
func (f *fileMaker) secret() string {
	p := f.path()
	if err := os.WriteFile(p, bytes.Repeat([]byte("s"), 48), 0o600); err != nil {
		f.t.Fatal(err)
	}
	return p
}

// key writes an Ed25519 private key PEM, as forwardauth -genkey does.
func (f *fileMaker) key() string {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		f.t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		f.t.Fatal(err)
	}
	p := f.path()
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		f.t.Fatal(err)
	}
	return p
}

// mergeYAML returns base with over merged in: mappings are merged key by
// key, anything else in over replaces base's value.
func mergeYAML(base, over map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		bm, bok := out[k].(map[string]any)
		om, ook := v.(map[string]any)
		if bok && ook {
			out[k] = mergeYAML(bm, om)
			continue
		}
		out[k] = v
	}
	return out
}

// withExampleConfig merges a configuration fragment over examples/forwardauth.yml.
func withExampleConfig(t *testing.T, fragment []byte) ([]byte, error) {
	t.Helper()
	var base, over map[string]any
	if err := yaml.Unmarshal([]byte(readDoc(t, "examples/forwardauth.yml")), &base); err != nil {
		t.Fatalf("examples/forwardauth.yml: %v", err)
	}
	if err := yaml.Unmarshal(fragment, &over); err != nil {
		return nil, fmt.Errorf("not YAML: %w", err)
	}
	return yaml.Marshal(mergeYAML(base, over))
}

func TestExampleForwardauthConfigPassesCheck(t *testing.T) {
	report, err := checkForwardauthYAML(t, []byte(readDoc(t, "examples/forwardauth.yml")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(report, "configuration OK") {
		t.Errorf("forwardauth -check printed %q, want configuration OK", report)
	}
}

// The snippet check must be able to fail: a fragment forwardauth rejects
// is reported with the key to fix.
func TestForwardauthSnippetCheckRejectsABadFragment(t *testing.T) {
	body, err := withExampleConfig(t, []byte("session:\n  max_age: 10s\n"))
	if err != nil {
		t.Fatal(err)
	}
	report, err := checkForwardauthYAML(t, body)
	if err == nil || !strings.Contains(report, "session.max_age") {
		t.Errorf("a 10s session.max_age: err = %v, report %q; want a failure naming session.max_age", err, report)
	}
	if _, err := checkForwardauthYAML(t, []byte("sesion:\n  max_age: 1h\n")); err == nil {
		t.Error("an unknown key (sesion) passed forwardauth -check")
	}
	// A setting that loads but fails at run time: no cookie domain for the Plex host.
	body, err = withExampleConfig(t, []byte("session:\n  cookie_domain: \"\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if report, err := checkForwardauthYAML(t, body); err == nil || !strings.Contains(report, "session.cookie_domain") {
		t.Errorf("no cookie domain for plex.example.com: err = %v, report %q; want a warning naming session.cookie_domain", err, report)
	}
}

// Every command and configuration key of forwardauth is in the reference.
func TestEveryForwardauthFlagIsDocumented(t *testing.T) {
	reference := readDoc(t, "docs/configuration.md")
	for name := range forwardauthFlags(t) {
		if name == "help" || name == "h" {
			continue
		}
		if !strings.Contains(reference, "`"+name+"`") && !strings.Contains(reference, "`-"+name) {
			t.Errorf("docs/configuration.md does not document forwardauth's %s (as `%s` or `-%s`)", name, name, name)
		}
	}
}

// Every plugin option is in the reference.
func TestEveryPluginOptionIsDocumented(t *testing.T) {
	reference := strings.ToLower(readDoc(t, "docs/configuration.md"))
	for name := range pluginConfigFields(t) {
		if !strings.Contains(reference, "`"+name+"`") {
			t.Errorf("docs/configuration.md does not document the plugin option %s", name)
		}
	}
}
