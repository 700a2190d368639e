package release

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// root is the plexgate repository, two levels above this package.
const root = "../.."

// The checks of `make release-check` on the repository as it is, except
// the tag (there is none to check) and the time limit: the load time is
// logged, and judged only by make release-check against the catalog's
// limit, because a timed assertion here would fail on a busy machine.
func TestRepositoryPassesTheCatalogChecks(t *testing.T) {
	m, err := Manifest(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := GoMod(root); err != nil {
		t.Error(err)
	}
	if err := Vendor(root); err != nil {
		t.Error(err)
	}
	took, err := Load(root, m)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("loading the plugin and New with testData under Yaegi took %s (the catalog allows %s)", took, LoadLimit)
}

// writeRepo writes a minimal repository with the given .traefik.yml.
func writeRepo(t *testing.T, manifest, gomod string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{".traefik.yml": manifest, "go.mod": gomod} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "plugin"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

const goodManifest = "displayName: x\ntype: middleware\nimport: github.com/plexgate/plexgate/plugin\nsummary: s\ntestData:\n  A: b\n"

func TestManifestNamesEveryMissingField(t *testing.T) {
	tests := []struct {
		name, manifest, want string
	}{
		{"complete", goodManifest, ""},
		{"no displayName", strings.Replace(goodManifest, "displayName: x\n", "", 1), "displayName"},
		{"provider type", strings.Replace(goodManifest, "middleware", "provider", 1), "type"},
		{"wasm runtime", goodManifest + "runtime: wasm\n", "runtime"},
		{"import outside the module", strings.Replace(goodManifest, "github.com/plexgate/plexgate/plugin", "github.com/other/x", 1), "import"},
		{"import of a missing package", strings.Replace(goodManifest, "/plugin\n", "/nothere\n", 1), "no directory"},
		{"no summary", strings.Replace(goodManifest, "summary: s\n", "", 1), "summary"},
		{"no testData", strings.Replace(goodManifest, "testData:\n  A: b\n", "", 1), "testData"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Manifest(writeRepo(t, tt.manifest, "module "+Module+"\n"))
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Manifest: %v, want no error", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Manifest error = %v, want one naming %s", err, tt.want)
			}
		})
	}
}

func TestGoModMustDeclareTheModule(t *testing.T) {
	if err := GoMod(writeRepo(t, goodManifest, "module "+Module+"\n\ngo 1.22\n")); err != nil {
		t.Errorf("GoMod: %v", err)
	}
	if err := GoMod(writeRepo(t, goodManifest, "module github.com/someone/fork\n")); err == nil {
		t.Error("GoMod accepted another module path")
	}
	if err := GoMod(t.TempDir()); err == nil {
		t.Error("GoMod accepted a repository without go.mod")
	}
}

func TestTagMustBeSemver(t *testing.T) {
	for _, tag := range []string{"v0.1.0", "v1.12.3", "v2.0.0-rc.1"} {
		if err := Tag(tag); err != nil {
			t.Errorf("Tag(%q): %v", tag, err)
		}
	}
	for _, tag := range []string{"", "0.1.0", "v1", "v1.2", "v01.2.3", "v1.2.3.4", "v1.2.3+build", "release-1"} {
		if err := Tag(tag); err == nil {
			t.Errorf("Tag(%q) accepted", tag)
		}
	}
}

// Load must fail when New refuses the testData, or the check proves nothing.
func TestLoadFailsWhenNewRefusesTheTestData(t *testing.T) {
	m, err := Manifest(root)
	if err != nil {
		t.Fatal(err)
	}
	bad := *m
	bad.TestData = map[string]any{"ValidateURL": "", "CacheTTL": "soon"}
	if _, err := Load(root, &bad); err == nil || !strings.Contains(err.Error(), "ValidateURL") {
		t.Errorf("Load with a testData New refuses: err = %v, want New's error naming ValidateURL", err)
	}
}
