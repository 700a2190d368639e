// Package release checks what Traefik's plugin catalog checks before it
// lists a version of plexgate: the manifest (.traefik.yml), go.mod at the
// repository root, vendor/ in sync with go.mod, the plugin loading through
// Traefik's own plugin loader with New accepting the manifest's testData
// under Yaegi, and the tag's form. `make release-check` runs every check
// and judges the load time against the catalog's limit; the package's tests
// (in `make test`) run the same checks except the time limit and the tag.
package release

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/traefik/traefik/v3/pkg/plugins"
	"go.yaml.in/yaml/v3"
)

// Module is the plugin's module path, the repository the catalog reads.
const Module = "github.com/plexgate/plexgate"

// LoadLimit is how long the catalog lets a plugin take to load and run New
// with its testData before it refuses the version.
const LoadLimit = 10 * time.Second

// pluginName is the name the plugin is declared under in Traefik's static configuration.
const pluginName = "plexgate"

// Manifest reads root/.traefik.yml and checks the fields the catalog
// requires: displayName, type middleware (Yaegi), an import inside the
// module that names a package directory, summary and testData.
func Manifest(root string) (*plugins.Manifest, error) {
	raw, err := os.ReadFile(filepath.Join(root, ".traefik.yml"))
	if err != nil {
		return nil, fmt.Errorf("release: %w", err)
	}
	var m plugins.Manifest
	if err := yaml.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("release: .traefik.yml: %w", err)
	}
	var errs []error
	if m.DisplayName == "" {
		errs = append(errs, errors.New("displayName is empty"))
	}
	if m.Type != "middleware" {
		errs = append(errs, fmt.Errorf("type is %q, want middleware", m.Type))
	}
	if m.Runtime != "" && m.Runtime != "yaegi" {
		errs = append(errs, fmt.Errorf("runtime is %q, want yaegi (or none)", m.Runtime))
	}
	if rel, ok := strings.CutPrefix(m.Import, Module+"/"); !ok {
		errs = append(errs, fmt.Errorf("import %q is not a package of %s", m.Import, Module))
	} else if st, err := os.Stat(filepath.Join(root, rel)); err != nil || !st.IsDir() {
		errs = append(errs, fmt.Errorf("import %q: no directory %s in the repository", m.Import, rel))
	}
	if strings.TrimSpace(m.Summary) == "" {
		errs = append(errs, errors.New("summary is empty"))
	}
	if len(m.TestData) == 0 {
		errs = append(errs, errors.New("testData is empty"))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("release: .traefik.yml: %w", errors.Join(errs...))
	}
	return &m, nil
}

var moduleLine = regexp.MustCompile(`(?m)^module\s+(\S+)\s*$`)

// GoMod checks that root/go.mod declares the module the catalog fetches.
func GoMod(root string) error {
	raw, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return fmt.Errorf("release: go.mod must be at the repository root: %w", err)
	}
	got := ""
	if m := moduleLine.FindSubmatch(raw); m != nil {
		got = string(m[1])
	}
	if got != Module {
		return fmt.Errorf("release: go.mod declares module %q, want %s", got, Module)
	}
	return nil
}

// Vendor checks that `go mod vendor` reproduces root/vendor exactly: the
// catalog builds from the repository as tagged, dependencies included.
func Vendor(root string) error {
	tmp, err := os.MkdirTemp("", "plexgate-release-vendor-")
	if err != nil {
		return fmt.Errorf("release: %w", err)
	}
	defer os.RemoveAll(tmp)
	fresh := filepath.Join(tmp, "vendor")
	cmd := exec.Command("go", "mod", "vendor", "-o", fresh)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("release: go mod vendor: %w\n%s", err, out)
	}
	a, err := tree(filepath.Join(root, "vendor"))
	if err != nil {
		return fmt.Errorf("release: vendor/: %w", err)
	}
	b, err := tree(fresh)
	if err != nil {
		return fmt.Errorf("release: %w", err)
	}
	var diffs []string
	for name, content := range b {
		if old, ok := a[name]; !ok {
			diffs = append(diffs, "missing "+name)
		} else if !bytes.Equal(old, content) {
			diffs = append(diffs, "differs "+name)
		}
	}
	for name := range a {
		if _, ok := b[name]; !ok {
			diffs = append(diffs, "extra "+name)
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("release: vendor/ is stale (run go mod tidy && go mod vendor): %s", strings.Join(first(diffs, 5), ", "))
	}
	return nil
}

// tree reads every file under dir, keyed by its path relative to dir.
func tree(dir string) (map[string][]byte, error) {
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		out[rel] = b
		return nil
	})
	return out, err
}

func first(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("… %d more", len(s)-n))
	}
	return s
}

var semverTag = regexp.MustCompile(`^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$`)

// Tag checks a release tag's form: vMAJOR.MINOR.PATCH, optionally with a
// pre-release suffix (v1.2.0-rc.1), as the catalog and Go modules expect.
func Tag(tag string) error {
	if !semverTag.MatchString(tag) {
		return fmt.Errorf("release: tag %q is not of the form vMAJOR.MINOR.PATCH (e.g. v0.1.0)", tag)
	}
	return nil
}

// Load copies the plugin into a plugins-local layout, loads it with
// Traefik's plugin loader (which interprets it with Yaegi) and builds one
// middleware from the manifest's testData, as the catalog does. It returns
// the time that took. It changes the working directory while loading
// (Traefik's loader reads ./plugins-local), so it must not run beside
// other code that depends on the working directory.
func Load(root string, m *plugins.Manifest) (time.Duration, error) {
	dir, err := os.MkdirTemp("", "plexgate-release-load-")
	if err != nil {
		return 0, fmt.Errorf("release: %w", err)
	}
	defer os.RemoveAll(dir)
	if err := copyPlugin(root, filepath.Join(dir, "plugins-local", "src", Module), m.Import); err != nil {
		return 0, err
	}
	wd, err := os.Getwd()
	if err != nil {
		return 0, fmt.Errorf("release: %w", err)
	}
	if err := os.Chdir(dir); err != nil {
		return 0, fmt.Errorf("release: %w", err)
	}
	defer func() { _ = os.Chdir(wd) }()
	start := time.Now()
	err = build(m)
	return time.Since(start), err
}

func build(m *plugins.Manifest) error {
	local := map[string]plugins.LocalDescriptor{pluginName: {ModuleName: Module}}
	if err := plugins.SetupLocalPlugins(local); err != nil {
		return fmt.Errorf("release: traefik's checks of the local plugin: %w", err)
	}
	b, err := plugins.NewBuilder(nil, nil, local)
	if err != nil {
		return fmt.Errorf("release: loading the plugin under Yaegi: %w", err)
	}
	construct, err := b.Build(pluginName, m.TestData, "release-check")
	if err != nil {
		return fmt.Errorf("release: New with testData: %w", err)
	}
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	if _, err := construct(context.Background(), next); err != nil {
		return fmt.Errorf("release: New with testData: %w", err)
	}
	return nil
}

// copyPlugin copies go.mod, .traefik.yml and the imported package's non-test
// Go files, what the catalog's loader reads.
func copyPlugin(root, dst, importPath string) error {
	pkg := strings.TrimPrefix(importPath, Module+"/")
	if err := os.MkdirAll(filepath.Join(dst, pkg), 0o755); err != nil {
		return fmt.Errorf("release: %w", err)
	}
	files := []string{"go.mod", ".traefik.yml"}
	sources, err := filepath.Glob(filepath.Join(root, pkg, "*.go"))
	if err != nil {
		return fmt.Errorf("release: %w", err)
	}
	for _, s := range sources {
		if !strings.HasSuffix(s, "_test.go") {
			files = append(files, filepath.Join(pkg, filepath.Base(s)))
		}
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			return fmt.Errorf("release: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dst, f), b, 0o644); err != nil {
			return fmt.Errorf("release: %w", err)
		}
	}
	return nil
}
