package config

import (
	"net/url"
	"path"
	"strings"
	"time"
)

// checkPlex checks plex.* and authz.plex_*.
func (c *Config) checkPlex(p *Problems) {
	x, a := c.Plex, c.Authz
	if !x.Enabled {
		if len(a.PlexUsers) > 0 || a.PlexFriends || a.PlexRequireTwoFactor {
			p.Addf("plex.enabled", "is false, so authz.plex_* rules have no effect: set plex.enabled: true or remove them")
		}
		return
	}
	if len(a.PlexUsers) == 0 && !a.PlexFriends {
		p.Addf("plex.enabled", "no plex_* rule allows anyone: set authz.plex_users or authz.plex_friends")
	}
	for _, u := range a.PlexUsers {
		if strings.TrimSpace(u) == "" || strings.ContainsFunc(u, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			p.Addf("authz.plex_users", "%q is not a plex.tv username, email or account id", u)
		}
	}
	c.checkPlexKeys(p)
}

// checkPlexKeys checks plex.* and the keys authz.plex_friends needs.
func (c *Config) checkPlexKeys(p *Problems) {
	x, a := c.Plex, c.Authz
	checkPlexURL(p, "plex.api_url", x.APIURL, true)
	checkPlexURL(p, "plex.server_url", x.ServerURL, false)
	if x.ServerID != "" && !plexID(x.ServerID) {
		p.Addf("plex.server_id", "%q is not a machine identifier (letters, digits, - and _)", x.ServerID)
	}
	if a.PlexFriends && x.OwnerTokenFile == "" {
		p.Addf("authz.plex_friends", "needs plex.owner_token_file (the owner's token reads shared_servers)")
	}
	if a.PlexFriends && x.ServerID == "" && x.ServerURL == "" {
		p.Addf("authz.plex_friends", "needs plex.server_id or plex.server_url (for the machine identifier)")
	}
	if x.CacheTTL < time.Second || x.CacheTTL > 24*time.Hour {
		p.Addf("plex.cache_ttl", "%s must be between 1s and 24h", x.CacheTTL)
	}
	if x.RefreshInterval < 10*time.Second {
		p.Addf("plex.refresh_interval", "%s is too short (at least 10s, to spare plex.tv)", x.RefreshInterval)
	}
	for _, tp := range x.TokenPaths {
		if !strings.HasPrefix(tp, "/") || path.Clean(tp) == "/" || strings.ContainsAny(tp, "?#%\\ ") {
			p.Addf("plex.token_paths", "%q must be a path below / without query, escapes or spaces", tp)
		}
	}
	if !oneOf(x.UserField, "username", "email") {
		p.Addf("plex.user_field", "%q must be username or email", x.UserField)
	}
}

func checkPlexURL(p *Problems, key, raw string, required bool) {
	if raw == "" && !required {
		return
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		p.Addf(key, "%q must be an absolute http(s) URL without query", raw)
	}
}

// plexID reports whether s looks like a Plex machine identifier.
func plexID(s string) bool {
	return len(s) <= 128 && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == ""
}
