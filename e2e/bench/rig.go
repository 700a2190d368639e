package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/plexgate/plexgate/e2e/harness"
)

// authHost is forwardauth's public host; its URL is the tokens' issuer.
const authHost = "auth." + harness.Domain

// rig is everything the benchmark runs: the upstream, the null auth
// server, forwardauth and Traefik, plus the sessions.
type rig struct {
	upstream, nullAuth *server
	plexTV             *harness.PlexTV
	forwardauth        *harness.Forwardauth
	traefik            *harness.Traefik
	// addr is Traefik's load entrypoint, host:port; pprof its
	// /debug/pprof/ URL when Options.Pprof is set.
	addr, pprof string
	// runDir receives logs, generated files and profiles.
	runDir string
	// hit is the one session of routes 1, 2 and 4–6; misses are route 3's.
	hit    string
	misses []string
	// refreshes are route 10's: the hit session, with every refreshEvery-th
	// a distinct session past its refresh point.
	refreshes []string
	// plexToken is the Plex token of routes 8 and 9 (the owner's account
	// at the stand-in plex.tv).
	plexToken, plexUser string
}

// startRig starts every part; on error, whatever started is stopped.
func startRig(ctx context.Context, paths harness.Paths, runDir string, o Options, log *slog.Logger) (r *rig, err error) {
	r = &rig{runDir: runDir}
	defer func() {
		if err != nil {
			r.stop()
		}
	}()
	if r.upstream, err = startServer(upstreamHandler()); err != nil {
		return nil, err
	}
	if r.nullAuth, err = startServer(nullAuthHandler()); err != nil {
		return nil, err
	}
	accounts := harness.NewPlexAccounts()
	if r.plexTV, err = harness.StartPlexTV(0, "", accounts); err != nil {
		return nil, err
	}
	r.plexToken, r.plexUser = accounts.Owner.Token, accounts.Owner.Username
	log.Info("building and starting forwardauth")
	plex := &harness.ForwardauthPlex{APIURL: r.plexTV.URL, OwnerToken: accounts.Owner.Token, Users: []string{accounts.Owner.Username}}
	if r.forwardauth, err = startForwardauth(ctx, paths, runDir, plex); err != nil {
		return nil, err
	}
	minter, err := r.mint(runDir, o.Sessions, log)
	if err != nil {
		return nil, err
	}
	log.Info("starting traefik", "binary", paths.Traefik())
	if err = r.startTraefik(ctx, paths, runDir, o, minter); err != nil {
		return nil, err
	}
	return r, nil
}

// startForwardauth builds forwardauth and starts it with the harness's
// config (its OIDC provider is never contacted: /validate needs none) and
// Plex tokens checked with the stand-in plex.tv.
func startForwardauth(ctx context.Context, paths harness.Paths, runDir string, plex *harness.ForwardauthPlex) (*harness.Forwardauth, error) {
	bin, err := harness.BuildForwardauth(ctx, paths, runDir)
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	return harness.StartForwardauth(ctx, bin, runDir, harness.ForwardauthConfig{
		Port: port, PublicURL: "http://" + authHost, CookieDomain: harness.Domain,
		Issuer: "http://127.0.0.1:9/oauth2/default",
		Client: harness.OIDCClient{ID: "plexgate-bench", Secret: rand.Text()}, Plex: plex,
	})
}

// mint reads the key forwardauth -genkey wrote for forwardauth and mints
// the hit session and n distinct miss sessions with it.
func (r *rig) mint(runDir string, n int, log *slog.Logger) (*Minter, error) {
	keyPEM, err := os.ReadFile(filepath.Join(runDir, "session.pem"))
	if err != nil {
		return nil, fmt.Errorf("bench: forwardauth's key: %w", err)
	}
	m, err := NewMinter(keyPEM, "http://"+authHost)
	if err != nil {
		return nil, err
	}
	log.Info("minting sessions", "count", n+1)
	if r.hit, err = m.Mint(0); err != nil {
		return nil, err
	}
	if r.misses, err = m.MintMany(1, n); err != nil {
		return nil, err
	}
	r.refreshes, err = refreshLoad(m, r.hit, n)
	return m, err
}

// refreshLoad is route 10's token list: n sessions signed in an hour ago
// (so past their refresh point, session.refresh_after), each after
// refreshEvery-1 uses of the hit session.
func refreshLoad(m *Minter, hit string, n int) ([]string, error) {
	due := *m
	due.Now = func() time.Time { return time.Now().Add(-time.Hour) }
	old, err := due.MintMany(1_000_000, n)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, n*refreshEvery)
	for _, tok := range old {
		for i := 1; i < refreshEvery; i++ {
			out = append(out, hit)
		}
		out = append(out, tok)
	}
	return out, nil
}

func (r *rig) startTraefik(ctx context.Context, paths harness.Paths, runDir string, o Options, m *Minter) error {
	entry, err := freePort()
	if err != nil {
		return err
	}
	ping, err := freePort()
	if err != nil {
		return err
	}
	pprof := 0
	if o.Pprof {
		if pprof, err = freePort(); err != nil {
			return err
		}
	}
	site := Site{
		EntryPort: entry, PingPort: ping, PprofPort: pprof, UpstreamURL: r.upstream.URL, NullAuthURL: r.nullAuth.URL,
		ForwardauthURL: r.forwardauth.URL, PublicKeyPEM: m.PublicKeyPEM(), Issuer: m.Issuer,
		MissCacheEntries: o.CacheEntries, DynamicFile: filepath.Join(runDir, "dynamic.yml"),
	}
	if err := os.WriteFile(site.DynamicFile, DynamicConfig(site), 0o600); err != nil {
		return fmt.Errorf("bench: dynamic config: %w", err)
	}
	if err := writeFloorPlugin(filepath.Join(runDir, "traefik")); err != nil {
		return err
	}
	r.traefik, err = harness.StartTraefik(ctx, paths, harness.TraefikSpec{Name: "traefik", RunDir: runDir, Static: StaticConfig(site)})
	r.addr = "127.0.0.1:" + strconv.Itoa(entry)
	if err == nil && pprof != 0 {
		r.pprof = "http://127.0.0.1:" + strconv.Itoa(pprof) + "/debug/pprof/"
	}
	return err
}

// stop stops whatever runs.
func (r *rig) stop() {
	if r.traefik != nil {
		r.traefik.Stop()
	}
	if r.forwardauth != nil {
		r.forwardauth.Stop()
	}
	if r.plexTV != nil {
		r.plexTV.Stop()
	}
	for _, s := range []*server{r.upstream, r.nullAuth} {
		if s != nil {
			s.close()
		}
	}
}

// freePort is a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("bench: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
