// Command demo runs plexgate locally — Pebble (ACME), the OpenID provider,
// the stand-in Plex, forwardauth and Traefik with the shipped configuration
// — prints the URL to open and the test users, and stops everything on
// Ctrl-C. `make demo` runs it.
//
// Ports (flags, or the environment variables in brackets):
//
//	-web 8080 [PLEXGATE_DEMO_WEB_PORT]              Traefik's web entrypoint (redirects to https)
//	-websecure 8443 [PLEXGATE_DEMO_WEBSECURE_PORT]  Traefik's websecure entrypoint (443 in production)
//	-plex 32400 [PLEXGATE_DEMO_PLEX_PORT]           Traefik's plex entrypoint (Plex's own port)
//	-provider 9011 [PLEXGATE_DEMO_PROVIDER_PORT]    the OpenID provider
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/plexgate/plexgate/e2e/harness"
)

// startTimeout bounds starting the stack, ACME issuance included.
const startTimeout = 4 * time.Minute

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// portFlag defines a port flag whose default comes from env or fallback.
func portFlag(fs *flag.FlagSet, name, env string, fallback int, usage string) *int {
	def := fallback
	if v, err := strconv.Atoi(os.Getenv(env)); err == nil {
		def = v
	}
	return fs.Int(name, def, usage+" (env "+env+")")
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	web := portFlag(fs, "web", "PLEXGATE_DEMO_WEB_PORT", 8080, "Traefik web entrypoint port")
	websecure := portFlag(fs, "websecure", "PLEXGATE_DEMO_WEBSECURE_PORT", 8443, "Traefik websecure entrypoint port")
	plex := portFlag(fs, "plex", "PLEXGATE_DEMO_PLEX_PORT", 32400, "Traefik plex entrypoint port")
	provider := portFlag(fs, "provider", "PLEXGATE_DEMO_PROVIDER_PORT", 9011, "OpenID provider port")
	if err := fs.Parse(args); err != nil {
		return err
	}
	paths, err := harness.FindPaths()
	if err != nil {
		return err
	}
	if err := paths.CheckTools(harness.GoTools, harness.NodeTools); err != nil {
		return err
	}
	runDir, err := harness.NewRunDir(filepath.Join(paths.E2E(), ".work", "demo"))
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "starting Pebble, the OpenID provider, the stand-in Plex, forwardauth and Traefik …")
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	ports := harness.Ports{Web: *web, Websecure: *websecure, Plex: *plex, Provider: *provider}
	stack, err := harness.StartStack(ctx, paths, ports, runDir)
	if err != nil {
		return err
	}
	defer stack.Stop()
	printWelcome(out, stack)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	fmt.Fprintln(out, "\nstopping …")
	return nil
}

func printWelcome(out io.Writer, s *harness.Stack) {
	a, b, m := harness.Alice, harness.Bob, harness.Mallory
	fmt.Fprintf(out, `
plexgate demo is running.

  Open      %s
  Sign in   %s / %s, then one-time code %s   (group %s, with MFA: allowed)
  Refused   %s / %s                          (no second factor: 403 while MFA is required)
            %s / %s, code %s   (not in %s: 403)
  Sign out  %s

Certificates come from a local ACME server (Pebble), so the browser warns
once per host (plex. and auth.): accept the warning, or trust this run's
Pebble root (it changes on every start):
  %s
  e.g. certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n plexgate-demo -i %s
*.localhost names resolve to 127.0.0.1 in Chromium and Firefox without any DNS setup.
`,
		s.PlexURL("/web"), a.Username, a.Password, a.OTP, harness.AllowedGroup,
		b.Username, b.Password, m.Username, m.Password, m.OTP, harness.AllowedGroup,
		s.AuthURL("/logout"), s.Pebble.RootPEM, s.Pebble.RootPEM)
	printTryNext(out, s)
}

// printTryNext lists what to try after the first sign-in, with commands
// that work as printed.
func printTryNext(out io.Writer, s *harness.Stack) {
	curl := "curl --cacert " + s.Pebble.RootPEM
	fmt.Fprintf(out, `
Try next:
  1. Sign in as %s at the URL above: the stand-in Plex page shows the user it received.
  2. An app without a session gets 401, a browser without one a redirect to the sign-in:
       %s -s -o /dev/null -w '%%{http_code}\n' -H 'Accept: application/json' %s
       %s -sI %s | grep -i '^location'
  3. Sign out (%s), then sign in as %s (no second factor) or %s (not in %s): 403.
  4. forwardauth's counters: curl -s %s/metrics | grep plexgate_

Also running: Plex stand-in on %s (TLS name %s),
forwardauth %s, provider %s.
Logs and generated configuration: %s

Ctrl-C stops everything.
`,
		harness.Alice.Username,
		curl, s.PlexURL("/identity"), curl, s.PlexURL("/web"),
		s.AuthURL("/logout"), harness.Bob.Username, harness.Mallory.Username, harness.AllowedGroup,
		s.Forwardauth.URL,
		s.PlexAddr(), s.Plex.PlexDirectName(), s.Forwardauth.URL, s.Provider.Issuer, s.RunDir)
}
