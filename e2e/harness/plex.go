package harness

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/plexgate/plexgate/e2e/plexstub"
)

// PlexAccounts are the plex.tv accounts of the stand-in plex.tv, with
// tokens fresh for every stack.
type PlexAccounts struct {
	// Owner owns the server; forwardauth holds its token
	// (plex.owner_token_file) and allows it by name (authz.plex_users).
	Owner plexstub.Account
	// Friend has the server shared with them: FriendShare is the access
	// token their apps use for it (allowed by authz.plex_friends).
	Friend      plexstub.Account
	FriendShare string
	// Friend2 and Friend2Share are a second friend, for checks that must
	// start with a token no cache has seen.
	Friend2      plexstub.Account
	Friend2Share string
	// Stranger is a valid plex.tv account no rule allows.
	Stranger plexstub.Account
}

var twoFactorOn, twoFactorOff = true, false

// NewPlexAccounts makes the accounts with random tokens of plex.tv's
// length (20 characters).
func NewPlexAccounts() PlexAccounts {
	tok := func() string { return rand.Text()[:20] }
	return PlexAccounts{
		Owner: plexstub.Account{ID: 1001, UUID: "c0ffee0001", Username: "plexowner", Email: "plexowner@" + Domain,
			Token: tok(), TwoFactorEnabled: &twoFactorOn},
		Friend: plexstub.Account{ID: 2002, UUID: "c0ffee0002", Username: "plexfriend", Email: "plexfriend@" + Domain,
			Token: tok(), TwoFactorEnabled: &twoFactorOff},
		FriendShare: tok(),
		Friend2: plexstub.Account{ID: 2004, UUID: "c0ffee0004", Username: "plexfriend2", Email: "plexfriend2@" + Domain,
			Token: tok(), TwoFactorEnabled: &twoFactorOff},
		Friend2Share: tok(),
		Stranger: plexstub.Account{ID: 3003, UUID: "c0ffee0003", Username: "plexstranger", Email: "plexstranger@" + Domain,
			Token: tok(), TwoFactorEnabled: &twoFactorOn},
	}
}

// PlexTV is the running stand-in plex.tv.
type PlexTV struct {
	*plexstub.PlexTV
	// URL is its base URL (forwardauth's plex.api_url).
	URL string
	srv *http.Server
}

// StartPlexTV serves a stand-in plex.tv knowing accounts on 127.0.0.1:port.
// machineID is the server whose shares it lists.
func StartPlexTV(port int, machineID string, accounts PlexAccounts) (*PlexTV, error) {
	tv := plexstub.NewPlexTV(machineID, accounts.Owner)
	tv.AddAccount(accounts.Friend)
	tv.AddAccount(accounts.Stranger)
	tv.AddAccount(accounts.Friend2)
	tv.AddShare(accounts.Friend, accounts.FriendShare)
	tv.AddShare(accounts.Friend2, accounts.Friend2Share)
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return nil, fmt.Errorf("harness: plex.tv stand-in: %w", err)
	}
	p := &PlexTV{PlexTV: tv, URL: "http://" + l.Addr().String(),
		srv: &http.Server{Handler: tv.Handler(), ReadHeaderTimeout: 10 * time.Second}}
	go func() { _ = p.srv.Serve(l) }()
	return p, nil
}

// Stop closes the server and its connections (a Hang outage included).
func (p *PlexTV) Stop() {
	p.SetOutage(plexstub.Up)
	_ = p.srv.Close()
}

// ForwardauthPlex is forwardauth's plex section and Plex rules.
type ForwardauthPlex struct {
	// APIURL is the stand-in plex.tv; ServerURL the stand-in Plex.
	APIURL, ServerURL string
	// OwnerToken is written to plex.owner_token_file.
	OwnerToken string
	// Users is authz.plex_users; Friends authz.plex_friends.
	Users   []string
	Friends bool
}

// addTo adds the plex section and rules to forwardauth's config file.
func (p *ForwardauthPlex) addTo(file map[string]any, runDir string) error {
	tokenFile := filepath.Join(runDir, "plex-owner-token")
	if err := os.WriteFile(tokenFile, []byte(p.OwnerToken+"\n"), 0o600); err != nil {
		return fmt.Errorf("harness: plex owner token: %w", err)
	}
	file["plex"] = map[string]any{
		"enabled": true, "api_url": p.APIURL, "server_url": p.ServerURL, "owner_token_file": tokenFile,
	}
	authz := file["authz"].(map[string]any)
	authz["plex_users"] = p.Users
	authz["plex_friends"] = p.Friends
	return nil
}

// Reconfigure stops forwardauth, lets change edit its configuration and
// starts it again with the same key: sessions stay valid, its caches do not.
func (f *Forwardauth) Reconfigure(ctx context.Context, change func(*ForwardauthConfig)) error {
	f.Stop()
	change(&f.cfg)
	if err := f.writeConfig(); err != nil {
		return err
	}
	return f.Start(ctx)
}

// startPlexTV starts the stand-in plex.tv, before the stand-in Plex; the
// machine identifier follows once Plex has one (startPlex).
func (s *Stack) startPlexTV(context.Context) error {
	s.PlexAccounts = NewPlexAccounts()
	tv, err := StartPlexTV(s.Ports.PlexTV, "", s.PlexAccounts)
	if err == nil {
		s.PlexTV = tv
		s.stops = append(s.stops, tv.Stop)
	}
	return err
}

// forwardauthPlex is the stack's Plex rules: the owner by name, friends.
func (s *Stack) forwardauthPlex() *ForwardauthPlex {
	return &ForwardauthPlex{
		APIURL: s.PlexTV.URL, ServerURL: "http://" + s.PlexAddr(), OwnerToken: s.PlexAccounts.Owner.Token,
		Users: []string{s.PlexAccounts.Owner.Username}, Friends: true,
	}
}

// PlexPort is the port suffix (":<port>") of Traefik's plex entrypoint,
// for URLs on the Plex host's 32400 door.
func (s *Stack) PlexPort() string {
	a := s.PlexEntrypointAddr()
	return a[strings.LastIndex(a, ":"):]
}

// PlexURL32400 is the gated Plex URL for path on the plex entrypoint.
func (s *Stack) PlexURL32400(path string) string {
	return "https://" + PlexHost + s.PlexPort() + path
}
