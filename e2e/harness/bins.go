package harness

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Versions of the tools the harness runs; e2e/go.mod pins the same ones
// (TestToolVersionsMatchGoMod holds them together).
const (
	// TraefikVersion is the Traefik built from github.com/traefik/traefik/v3/cmd/traefik.
	TraefikVersion = "v3.6.12"
	// PebbleVersion is the Pebble and pebble-challtestsrv version.
	PebbleVersion = "v2.10.1"
)

// Paths locates the repository and the tools.
type Paths struct {
	// Root is the repository root (holds go.mod of github.com/plexgate/plexgate).
	Root string
	// Bin holds the cached tool binaries; default $HOME/.cache/plexgate/bin,
	// overridden by PLEXGATE_BIN_DIR.
	Bin string
	// Chromium is the browser; default /usr/bin/chromium, overridden by PLEXGATE_CHROMIUM.
	Chromium string
}

// FindPaths walks up from the working directory to the repository root.
func FindPaths() (Paths, error) {
	dir, err := os.Getwd()
	if err != nil {
		return Paths{}, fmt.Errorf("harness: %w", err)
	}
	for {
		mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && bytes.HasPrefix(mod, []byte("module github.com/plexgate/plexgate\n")) {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return Paths{}, errors.New("harness: repository root not found above the working directory")
		}
		dir = parent
	}
	home, _ := os.UserHomeDir()
	p := Paths{Root: dir, Bin: filepath.Join(home, ".cache", "plexgate", "bin"), Chromium: "/usr/bin/chromium"}
	if v := os.Getenv("PLEXGATE_BIN_DIR"); v != "" {
		p.Bin = v
	}
	if v := os.Getenv("PLEXGATE_CHROMIUM"); v != "" {
		p.Chromium = v
	}
	return p, nil
}

// Traefik is the cached Traefik binary.
func (p Paths) Traefik() string { return filepath.Join(p.Bin, "traefik-"+TraefikVersion) }

// Pebble is the cached Pebble binary.
func (p Paths) Pebble() string { return filepath.Join(p.Bin, "pebble-"+PebbleVersion) }

// ChallTestSrv is the cached pebble-challtestsrv binary.
func (p Paths) ChallTestSrv() string {
	return filepath.Join(p.Bin, "pebble-challtestsrv-"+PebbleVersion)
}

// E2E is the e2e module's directory.
func (p Paths) E2E() string { return filepath.Join(p.Root, "e2e") }

// Node is the directory of the node scripts (provider, browser).
func (p Paths) Node() string { return filepath.Join(p.Root, "e2e", "node") }

// Tool is a group of tools the harness needs.
type Tool int

// Tool groups.
const (
	// GoTools are Traefik, Pebble and pebble-challtestsrv.
	GoTools Tool = iota
	// NodeTools are node and the npm packages.
	NodeTools
	// BrowserTools are Chromium and certutil.
	BrowserTools
)

// CheckTools reports every missing tool of the given groups at once, with
// the command that installs it.
func (p Paths) CheckTools(groups ...Tool) error {
	var problems []string
	for _, g := range groups {
		problems = append(problems, p.missing(g)...)
	}
	if len(problems) > 0 {
		return errors.New("harness: missing tools:\n  " + strings.Join(problems, "\n  "))
	}
	return nil
}

func (p Paths) missing(g Tool) []string {
	var problems []string
	switch g {
	case GoTools:
		for _, bin := range []string{p.Traefik(), p.Pebble(), p.ChallTestSrv()} {
			if _, err := os.Stat(bin); err != nil {
				problems = append(problems, fmt.Sprintf("%s is missing: run `make deps` in %s", bin, p.Root))
			}
		}
	case NodeTools:
		if _, err := exec.LookPath("node"); err != nil {
			problems = append(problems, "node is missing: run `apt-get install -y nodejs npm`")
		}
		for _, pkg := range []string{"oidc-provider", "playwright-core"} {
			if _, err := os.Stat(filepath.Join(p.Node(), "node_modules", pkg)); err != nil {
				problems = append(problems, fmt.Sprintf("npm package %s is missing: run `make deps` (npm ci in %s)", pkg, p.Node()))
			}
		}
	case BrowserTools:
		if _, err := os.Stat(p.Chromium); err != nil {
			problems = append(problems, fmt.Sprintf("%s is missing: run `apt-get install -y chromium libnss3-tools`", p.Chromium))
		}
		if _, err := exec.LookPath("certutil"); err != nil {
			problems = append(problems, "certutil is missing: run `apt-get install -y libnss3-tools`")
		}
	}
	return problems
}

// goModDir returns the directory of a module in the e2e module's graph.
func (p Paths) goModDir(module string) (string, error) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", module)
	cmd.Dir = p.E2E()
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("harness: go list -m %s: %w", module, err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return "", fmt.Errorf("harness: module %s is not downloaded: run `go mod download` in %s", module, p.E2E())
	}
	return dir, nil
}
