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

// readDoc returns a file of the repository as a string.
func readDoc(t *testing.T, name string) string {
	t.Helper()
	raw, err := os.ReadFile(repoPath(name))
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

func TestEveryTemplateVariableIsDocumented(t *testing.T) {
	names := templateVariables(t)
	if len(names) == 0 {
		t.Fatal("dynamic/ reads no environment variables; the regexp or the files changed")
	}
	reference := readDoc(t, "docs/configuration.md")
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
			if !strings.Contains(reference, "`"+name+"`") {
				t.Errorf("docs/configuration.md does not document `%s`", name)
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
