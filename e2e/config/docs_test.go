package config

import (
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var envCall = regexp.MustCompile(`\benv\s+"([A-Za-z_][A-Za-z0-9_]*)"`)

// templateVariables returns the names read with {{ env "…" }} in dynamic/.
func templateVariables(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(repoPath("dynamic/*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dynamic/*.yml files (err %v)", err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range envCall.FindAllStringSubmatch(string(raw), -1) {
			seen[m[1]] = true
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// readmeSection returns the README's <!-- section:NAME --> block.
func readmeSection(t *testing.T, name string) string {
	t.Helper()
	raw, err := os.ReadFile(repoPath("README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(raw), "<!-- section:"+name)
	if !ok {
		t.Fatalf("README.md has no section %q", name)
	}
	body, _, ok := strings.Cut(rest, "<!-- /section:"+name+" -->")
	if !ok {
		t.Fatalf("README.md section %q is not closed", name)
	}
	return body
}

func TestEveryTemplateVariableIsDocumented(t *testing.T) {
	names := templateVariables(t)
	if len(names) == 0 {
		t.Fatal("dynamic/ reads no environment variables; the regexp or the files changed")
	}
	readme := readmeSection(t, "traefik")
	compose, err := os.ReadFile(repoPath("examples/docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	envExample, err := os.ReadFile(repoPath("examples/.env.example"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			if !strings.Contains(readme, "`"+name+"`") {
				t.Errorf("README section traefik does not document `%s`", name)
			}
			if !strings.Contains(string(compose), name) {
				t.Errorf("examples/docker-compose.yml does not mention %s", name)
			}
			if !strings.Contains(string(envExample), name+"=") {
				t.Errorf("examples/.env.example has no %s= line", name)
			}
			if _, ok := variables[name]; !ok {
				t.Errorf("%s is missing from the tests' variables table, so the tests never set or unset it", name)
			}
		})
	}
	for name := range variables {
		if !slices.Contains(names, name) {
			t.Errorf("the tests' variables table lists %s, which dynamic/ does not read", name)
		}
	}
}

// Copying .env.example unchanged must give the same setup as no .env at all.
func TestEnvExampleValuesAreTheDefaults(t *testing.T) {
	raw, err := os.ReadFile(repoPath("examples/.env.example"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		name, value, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok || strings.HasPrefix(name, "#") {
			continue
		}
		def, known := variables[name]
		if !known || value == "" {
			continue
		}
		if value != def {
			t.Errorf(".env.example sets %s=%s, but the default is %s", name, value, def)
		}
	}
}
