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
