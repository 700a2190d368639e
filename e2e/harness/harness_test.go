package harness

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestToolVersionsMatchGoMod(t *testing.T) {
	paths, err := FindPaths()
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join(paths.E2E(), "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for module, version := range map[string]string{
		"github.com/traefik/traefik/v3":    TraefikVersion,
		"github.com/letsencrypt/pebble/v2": PebbleVersion,
	} {
		if !strings.Contains(string(mod), "\t"+module+" "+version) {
			t.Errorf("e2e/go.mod does not pin %s %s", module, version)
		}
	}
}

func TestStaticConfigReplacesEverySiteLineOnce(t *testing.T) {
	paths, err := FindPaths()
	if err != nil {
		t.Fatal(err)
	}
	cfg := TraefikConfig{WebPort: 1001, WebsecurePort: 1002, PlexPort: 1003, MetricsPort: 1004, CAServer: "https://127.0.0.1:14000/dir"}
	out, err := staticConfig(paths, "/run/traefik", cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`address: "127.0.0.1:1002"`, `address: "127.0.0.1:1003"`, "caServer: https://127.0.0.1:14000/dir", "storage: /run/traefik/acme.json"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("rendered static config lacks %q", want)
		}
	}
	for _, gone := range []string{"\n    address: \":443\"", "\n      caServer: https://acme-v02"} {
		if strings.Contains(string(out), gone) {
			t.Errorf("rendered static config still has %q", gone)
		}
	}
}

func TestStaticConfigWithoutSiteLineIsAnError(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "static"), 0o755)
	os.WriteFile(filepath.Join(root, "static", "traefik.yml"), []byte("entryPoints:\n  web:\n    address: \":81\"\n"), 0o644)
	_, err := staticConfig(Paths{Root: root}, "/run", TraefikConfig{})
	if err == nil || !strings.Contains(err.Error(), `address: \":80\"`) {
		t.Fatalf("err = %v, want one naming the missing site line", err)
	}
}

func TestParseMetricsSumsValidateCalls(t *testing.T) {
	body := []byte(`# HELP plexgate_validate_requests_total x
# TYPE plexgate_validate_requests_total counter
plexgate_validate_requests_total{result="allowed"} 3
plexgate_validate_requests_total{result="redirect"} 2
plexgate_logins_total{result="ok"} 7
`)
	m, err := parseMetrics(body)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.ValidateCalls(); got != 5 {
		t.Fatalf("ValidateCalls = %v, want 5", got)
	}
	if got := m.Get(`plexgate_logins_total{result="ok"}`); got != 7 {
		t.Fatalf("logins = %v, want 7", got)
	}
	if _, err := parseMetrics([]byte("novalue\n")); err == nil {
		t.Fatal("a line without a value parsed")
	}
}

func TestLineRingKeepsTheLastLines(t *testing.T) {
	r := &lineRing{max: 2}
	r.Write([]byte("one\ntwo\nthr"))
	r.Write([]byte("ee\nfour"))
	if got := r.String(); got != "two\nthree\nfour" {
		t.Fatalf("tail %q", got)
	}
}
