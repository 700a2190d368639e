package authz

import (
	"strconv"
	"strings"

	"github.com/plexgate/plexgate/forwardauth/config"
	"github.com/plexgate/plexgate/forwardauth/plex"
)

// Denials of a Plex identity.
const (
	// DenyPlexNotListed denies a Plex account no plex_* rule allows.
	DenyPlexNotListed Denial = "Your Plex account is not among the Plex users allowed to use this site."
	// DenyPlexTwoFactor denies a Plex account plex.tv does not say has two-factor authentication on.
	DenyPlexTwoFactor Denial = "This site requires two-factor authentication on your Plex account, and plex.tv did not say you have it."
)

// PlexRules apply the authz.plex_* rules to the holder of a Plex token. An
// identity is allowed when any rule allows it: authz.plex_users names it (a
// username or an email, case-insensitive, or an all-digit account id,
// matched against the id only), or authz.plex_friends is on and the account
// is in the owner's shared_servers, or it is a transient token the Plex
// server accepted. Then, with authz.plex_require_two_factor, plex.tv must
// say twoFactorEnabled: true; the rule fails closed where plex.tv says
// nothing (share and transient tokens). The session rules (allow_all,
// emails, domains, groups) never apply to Plex tokens, and the owner is
// allowed only when a rule allows them. PlexRules implement plex.Policy and
// are pure functions of their input.
type PlexRules struct {
	ids             map[int64]bool
	names, emails   map[string]bool
	friends, twoFac bool
}

var _ plex.Policy = (*PlexRules)(nil)

// NewPlexRules compiles the plex_* rules of cfg.
func NewPlexRules(cfg config.AuthzConfig) *PlexRules {
	m := &PlexRules{ids: map[int64]bool{}, names: map[string]bool{}, emails: map[string]bool{},
		friends: cfg.PlexFriends, twoFac: cfg.PlexRequireTwoFactor}
	for _, u := range cfg.PlexUsers {
		u = strings.ToLower(strings.TrimSpace(u))
		if id, err := strconv.ParseInt(u, 10, 64); err == nil && strings.Trim(u, "0123456789") == "" {
			m.ids[id] = true
		} else if strings.Contains(u, "@") {
			m.emails[u] = true
		} else if u != "" {
			m.names[u] = true
		}
	}
	return m
}

// listedByUsers reports whether plex_users names the identity.
func (m *PlexRules) listedByUsers(id plex.Identity) bool {
	if id.Kind != plex.KindAccount && id.Kind != plex.KindShare {
		return false
	}
	return id.ID > 0 && m.ids[id.ID] ||
		id.Username != "" && m.names[strings.ToLower(id.Username)] ||
		id.Email != "" && m.emails[strings.ToLower(id.Email)]
}

// NeedsFriendship reports whether the decision for id depends on whether the
// account is in shared_servers.
func (m *PlexRules) NeedsFriendship(id plex.Identity) bool {
	return m.friends && id.Kind == plex.KindAccount && !m.listedByUsers(id)
}

// Decide returns whether id is allowed and, when not, why.
func (m *PlexRules) Decide(id plex.Identity) (bool, string) {
	listed := id.Kind == plex.KindTransient || m.listedByUsers(id) || m.friends && id.Friend
	if !listed {
		return false, string(DenyPlexNotListed)
	}
	if m.twoFac && (id.TwoFactor == nil || !*id.TwoFactor) {
		return false, string(DenyPlexTwoFactor)
	}
	return true, ""
}
