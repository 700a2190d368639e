// Command bench measures plexgate through the real Traefik: seven routes
// (no auth, plugin hit, plugin local-verify misses, plugin delegate mode,
// forwardAuth → forwardauth, forwardAuth → null server, and an empty Yaegi
// plugin for diagnosis) to one upstream,
// and writes bench/RESULTS.md and bench/chart.svg. `make bench` runs it.
//
// Usage (in e2e/):
//
//	go run ./cmd/bench [-duration 10s] [-rounds 3] [-conns 16] [-sessions 100000] [-cache 10000] [-out ../bench]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/plexgate/plexgate/e2e/bench"
	"github.com/plexgate/plexgate/e2e/harness"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

// command is the command line.
type command struct {
	opts        bench.Options
	out, runDir string
}

func parseArgs(args []string, stderr io.Writer) (*command, error) {
	c := &command{opts: bench.DefaultOptions()}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.opts.Conns, "conns", c.opts.Conns, "keep-alive connections")
	fs.DurationVar(&c.opts.Duration, "duration", c.opts.Duration, "measuring time per route and round")
	fs.DurationVar(&c.opts.Warmup, "warmup", c.opts.Warmup, "unmeasured warmup before each measurement")
	fs.IntVar(&c.opts.Rounds, "rounds", c.opts.Rounds, "rounds over the routes")
	fs.IntVar(&c.opts.Sessions, "sessions", c.opts.Sessions, "distinct sessions sent through route 3")
	fs.IntVar(&c.opts.CacheEntries, "cache", c.opts.CacheEntries, "route 3's CacheMaxEntries")
	fs.BoolVar(&c.opts.Pprof, "pprof", false, "serve Traefik's /debug/pprof/ (URL in the log)")
	fs.StringVar(&c.opts.Note, "note", "", "a note for RESULTS.md")
	fs.StringVar(&c.out, "out", "", "directory for RESULTS.md and chart.svg (default: bench/ at the repository root)")
	fs.StringVar(&c.runDir, "rundir", "", "directory for logs and generated files (default: e2e/.work/bench/run-*)")
	return c, fs.Parse(args)
}

func run(args []string, stderr io.Writer) int {
	c, err := parseArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	if err := c.execute(log); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	return 0
}

func (c *command) execute(log *slog.Logger) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	paths, err := harness.FindPaths()
	if err != nil {
		return err
	}
	if c.out == "" {
		c.out = filepath.Join(paths.Root, "bench")
	}
	if c.runDir == "" {
		if c.runDir, err = harness.NewRunDir(filepath.Join(paths.E2E(), ".work", "bench")); err != nil {
			return err
		}
	}
	log.Info("run directory (logs)", "dir", c.runDir)
	res, err := bench.Run(ctx, paths, c.runDir, c.opts, log)
	if err != nil {
		return err
	}
	return write(res, c.out, log)
}

// write puts RESULTS.md and chart.svg into dir.
func write(res *bench.Results, dir string, log *slog.Logger) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range []struct {
		name  string
		write func(io.Writer) error
	}{
		{"RESULTS.md", func(w io.Writer) error { return res.WriteMarkdown(w, "chart.svg") }},
		{"chart.svg", res.WriteSVG},
	} {
		out, err := os.Create(filepath.Join(dir, f.name))
		if err != nil {
			return err
		}
		err = f.write(out)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
		log.Info("wrote", "file", filepath.Join(dir, f.name))
	}
	for _, t := range res.Targets() {
		log.Info("target", "what", t.What, "want", t.Want, "got", t.Got, "met", t.Met)
	}
	return nil
}
