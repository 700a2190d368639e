// Command releasecheck runs, on this repository, the checks Traefik's plugin
// catalog makes before it lists a version: the manifest, go.mod, vendor/,
// the plugin loaded and New run with testData under Yaegi within the
// catalog's time limit, and the tag's form. `make release-check TAG=v0.1.0`
// runs it; it prints each check and exits 1 if one fails.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/plexgate/plexgate/e2e/release"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout))
}

func run(args []string, out io.Writer) int {
	fs := flag.NewFlagSet("releasecheck", flag.ContinueOnError)
	tag := fs.String("tag", "", "the tag to be cut, vMAJOR.MINOR.PATCH (required)")
	root := fs.String("root", "..", "the repository root")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	dir, err := filepath.Abs(*root)
	if err != nil {
		fmt.Fprintln(out, "release-check:", err)
		return 1
	}
	failed := false
	report := func(what string, err error) {
		if err != nil {
			failed = true
			fmt.Fprintf(out, "FAIL %s: %v\n", what, err)
			return
		}
		fmt.Fprintf(out, "ok   %s\n", what)
	}
	report("tag "+*tag, release.Tag(*tag))
	m, err := release.Manifest(dir)
	report(".traefik.yml", err)
	report("go.mod at the root, module "+release.Module, release.GoMod(dir))
	report("vendor/ in sync with go.mod", release.Vendor(dir))
	if m != nil {
		took, err := release.Load(dir, m)
		if err == nil && took > release.LoadLimit {
			err = fmt.Errorf("took %s, more than the catalog's %s", took, release.LoadLimit)
		}
		report(fmt.Sprintf("plugin loaded and New(testData) under Yaegi in %s (limit %s)", took.Round(1e6), release.LoadLimit), err)
	}
	if failed {
		fmt.Fprintln(out, "release-check: failed")
		return 1
	}
	fmt.Fprintf(out, "release-check: %s can be tagged\n", *tag)
	return 0
}
