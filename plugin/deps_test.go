package plugin

import (
	"os/exec"
	"strings"
	"testing"
)

// TestPluginImportsOnlyTheStandardLibrary keeps the plugin loadable by
// Yaegi, which offers the standard library and nothing else.
func TestPluginImportsOnlyTheStandardLibrary(t *testing.T) {
	// go test puts its own toolchain's bin directory first on PATH.
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if pkg != "github.com/plexgate/plexgate/plugin" {
			t.Errorf("non-standard dependency %s", pkg)
		}
	}
}
