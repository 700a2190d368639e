package bench

import (
	"fmt"
	"os"
	"path/filepath"
)

// floorModule is the module of the empty Yaegi middleware of route 7.
const floorModule = "github.com/plexgate/benchfloor"

// floorFiles are the empty middleware's files: a plugin whose ServeHTTP
// only calls the next handler. Its route measures what Traefik's plugin
// machinery and Yaegi cost any plugin, so that route 2's cost splits into
// that toll and plexgate's own work.
var floorFiles = map[string]string{
	"go.mod": "module " + floorModule + "\n\ngo 1.22\n",
	".traefik.yml": "displayName: benchfloor\ntype: middleware\nimport: " + floorModule + "\n" +
		"summary: an empty middleware, the floor of every Yaegi plugin\ntestData: {}\n",
	"floor.go": `// Package benchfloor is an empty Traefik middleware plugin.
package benchfloor

import (
	"context"
	"net/http"
)

// Config is empty.
type Config struct{}

// CreateConfig returns the empty configuration.
func CreateConfig() *Config { return &Config{} }

type floor struct{ next http.Handler }

// New returns a middleware that only calls next.
func New(ctx context.Context, next http.Handler, config *Config, name string) (http.Handler, error) {
	return &floor{next: next}, nil
}

func (f *floor) ServeHTTP(rw http.ResponseWriter, req *http.Request) {
	f.next.ServeHTTP(rw, req)
}
`,
}

// writeFloorPlugin puts the empty middleware under traefikDir/plugins-local.
func writeFloorPlugin(traefikDir string) error {
	dir := filepath.Join(traefikDir, "plugins-local", "src", floorModule)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("bench: floor plugin: %w", err)
	}
	for name, content := range floorFiles {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return fmt.Errorf("bench: floor plugin: %w", err)
		}
	}
	return nil
}
