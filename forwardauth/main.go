// Command forwardauth is plexgate's companion service: it signs users in
// with an OpenID Connect provider (Okta first, any conforming provider),
// mints session tokens, and answers Traefik's forwardAuth /validate calls.
// It replaces Vouch Proxy.
//
// Usage:
//
//	forwardauth -config forwardauth.yml          serve
//	forwardauth -check -config forwardauth.yml   validate the config, print every problem
//	forwardauth -genkey > session.pem            print a new Ed25519 signing key (PKCS#8 PEM)
//	forwardauth -import-vouch config.yml         print the plexgate config for a Vouch Proxy config
//
// Every config key is also an environment variable (PLEXGATE_OIDC_CLIENT_ID)
// and a flag (-oidc.client_id); see -help.
//
// This package only parses flags and wires the parts: configuration in
// forwardauth/config, session tokens and keys in forwardauth/session, the
// OpenID login in forwardauth/login, the rules in forwardauth/authz, the
// HTTP service in forwardauth/handler, the Vouch import in forwardauth/vouch.
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
	"syscall"
	"time"

	"github.com/plexgate/plexgate/forwardauth/config"
	"github.com/plexgate/plexgate/forwardauth/handler"
	"github.com/plexgate/plexgate/forwardauth/session"
	"github.com/plexgate/plexgate/forwardauth/vouch"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv))
}

// command holds the command-line switches other than config keys.
type command struct {
	config, importVouch string
	check, genkey       bool
	values              map[string]string // config flags given
}

func parseArgs(args []string, stderr io.Writer) (*command, error) {
	fs := flag.NewFlagSet("forwardauth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &command{}
	fs.StringVar(&c.config, "config", "", "YAML config file (env PLEXGATE_CONFIG)")
	fs.BoolVar(&c.check, "check", false, "validate the configuration, print every problem and exit")
	fs.BoolVar(&c.genkey, "genkey", false, "print a new Ed25519 private key PEM for session.signing_key_file and exit")
	fs.StringVar(&c.importVouch, "import-vouch", "", "print the plexgate config equivalent to this Vouch Proxy config.yml and exit")
	c.values = config.RegisterFlags(fs)
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: forwardauth -config FILE | -check -config FILE | -genkey | -import-vouch VOUCH.yml\n\n"+
			"Config keys apply in the order defaults, file, environment (PLEXGATE_<KEY>), flags.\n"+
			"Create the session signing key with: forwardauth -genkey > session.pem\n\n")
		fs.PrintDefaults()
	}
	return c, fs.Parse(args)
}

// run executes the command line and returns the exit code.
func run(args []string, stdout, stderr io.Writer, env func(string) (string, bool)) int {
	c, err := parseArgs(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	switch {
	case c.genkey:
		return genkey(stdout, stderr)
	case c.importVouch != "":
		return vouch.ImportFile(c.importVouch, stdout, stderr)
	}
	if c.config == "" {
		c.config, _ = env("PLEXGATE_CONFIG")
	}
	cfg, srv, log, err := build(c, env)
	if err != nil {
		fmt.Fprintln(stderr, "forwardauth: configuration problems:")
		for _, p := range config.ProblemsOf(err) {
			fmt.Fprintln(stderr, "  -", p)
		}
		return 1
	}
	plexHost, _ := env("PLEXGATE_PLEX_HOST")
	warnings := cfg.Warnings(plexHost)
	if c.check {
		return report(stdout, warnings)
	}
	for _, w := range warnings {
		log.Warn("configuration: this setting will fail at run time", "problem", w)
	}
	return serve(cfg, srv, log)
}

// report prints the result of -check: configuration OK, or each warning (a
// setting that loads but fails at run time, such as a Plex host outside the
// cookie domain). Warnings do not change the exit status, 0: some are
// deliberate (an allowed domain used only as a logout destination).
func report(stdout io.Writer, warnings []string) int {
	if len(warnings) == 0 {
		fmt.Fprintln(stdout, "configuration OK")
		return 0
	}
	fmt.Fprintln(stdout, "forwardauth: warnings: these settings load, but fail at run time:")
	for _, w := range warnings {
		fmt.Fprintln(stdout, "  -", w)
	}
	fmt.Fprintf(stdout, "configuration loads, with %d warning(s): fix them, or the requests they name will fail\n", len(warnings))
	return 0
}

func genkey(stdout, stderr io.Writer) int {
	pemData, err := session.GenerateKeyPEM()
	if err != nil {
		fmt.Fprintln(stderr, "forwardauth:", err)
		return 1
	}
	_, _ = stdout.Write(pemData)
	return 0
}

// build loads and checks the config and constructs the server and its logger.
func build(c *command, env func(string) (string, bool)) (config.Config, *handler.Server, *slog.Logger, error) {
	cfg, err := config.LoadAndCheck(c.config, env, c.values)
	if err != nil {
		return cfg, nil, nil, err
	}
	log := newLogger(cfg.Log, os.Stderr)
	srv, err := handler.New(cfg, log, nil)
	return cfg, srv, log, err
}

func newLogger(c config.LogConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level)) // validated
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// serve runs the HTTP server until SIGINT or SIGTERM.
func serve(cfg config.Config, srv *handler.Server, log *slog.Logger) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hs := handler.NewHTTPServer(cfg.Listen, srv)
	go func() { _ = srv.Discover(ctx) }() // early discovery; failures retry on demand
	errc := make(chan error, 1)
	go func() { errc <- hs.ListenAndServe() }()
	log.Info("forwardauth listening", "addr", cfg.Listen, "public_url", cfg.PublicURL)
	select {
	case err := <-errc:
		log.Error("server stopped", "err", err)
		return 1
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil {
		log.Error("shutdown", "err", err)
		return 1
	}
	return 0
}
