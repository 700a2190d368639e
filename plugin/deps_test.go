package plugin

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestPluginImportsOnlyTheStandardLibrary keeps the plugin loadable by
// Yaegi, which offers the standard library and nothing else.
func TestPluginImportsOnlyTheStandardLibrary(t *testing.T) {
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := exec.LookPath(goBin); err != nil {
		goBin = "go"
	}
	out, err := exec.Command(goBin, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg != "github.com/plexgate/plexgate/plugin" {
			t.Errorf("non-standard dependency %s", pkg)
		}
	}
}
