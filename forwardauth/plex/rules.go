package plex

import (
	"fmt"
	"strconv"
	"strings"
)

// Rules are the authz.plex_* rules. A Plex identity is allowed when any of
// them allows it (a transient token the Plex server accepted counts as
// allowed); then, with RequireTwoFactor, plex.tv must say the account has
// two-factor authentication on. The rules for sessions (authz.emails,
// domains, groups, allow_all) never apply to Plex tokens, and the owner is
// allowed only when a rule allows them.
type Rules struct {
	// Users are plex.tv usernames, emails (with "@") or numeric account ids
	// (all digits: matched against the id only). Case-insensitive. Default none.
	Users []string
	// Friends allows every account in the owner's shared_servers list. Default false.
	Friends bool
	// RequireTwoFactor denies an account whose plex.tv profile does not say
	// twoFactorEnabled: true. It fails closed: share and transient tokens,
	// for which plex.tv says nothing, are denied. Default false.
	RequireTwoFactor bool
}

// Denial reasons.
const (
	DenyNotListed = "Your Plex account is not among the Plex users allowed to use this site."
	DenyTwoFactor = "This site requires two-factor authentication on your Plex account (or plex.tv did not say you have it)."
)

// Allows reports whether any rule can allow anyone (the two-factor rule
// alone cannot).
func (r Rules) Allows() bool { return len(r.Users) > 0 || r.Friends }

// Problems lists what is wrong with the rules, one line per entry.
func (r Rules) Problems() []string {
	var out []string
	for _, u := range r.Users {
		if strings.TrimSpace(u) == "" || clean(u) != u {
			out = append(out, fmt.Sprintf("%q is not a plex.tv username, email or account id", u))
		}
	}
	return out
}

// Matcher applies compiled Rules. It is a pure function of its input.
type Matcher struct {
	ids             map[int64]bool
	names, emails   map[string]bool
	friends, twoFac bool
}

// Compile prepares r for matching.
func (r Rules) Compile() *Matcher {
	m := &Matcher{ids: map[int64]bool{}, names: map[string]bool{}, emails: map[string]bool{},
		friends: r.Friends, twoFac: r.RequireTwoFactor}
	for _, u := range r.Users {
		u = strings.ToLower(strings.TrimSpace(u))
		if id, err := strconv.ParseInt(u, 10, 64); err == nil && allDigits(u) {
			m.ids[id] = true
		} else if strings.Contains(u, "@") {
			m.emails[u] = true
		} else if u != "" {
			m.names[u] = true
		}
	}
	return m
}

func allDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// listedByUsers reports whether plex_users names the identity.
func (m *Matcher) listedByUsers(id Identity) bool {
	if id.Kind != KindAccount && id.Kind != KindShare {
		return false
	}
	return id.ID > 0 && m.ids[id.ID] ||
		id.Username != "" && m.names[strings.ToLower(id.Username)] ||
		id.Email != "" && m.emails[strings.ToLower(id.Email)]
}

// NeedsFriendship reports whether the decision for id depends on whether the
// account is in shared_servers (so that the caller looks it up only then).
func (m *Matcher) NeedsFriendship(id Identity) bool {
	return m.friends && id.Kind == KindAccount && !m.listedByUsers(id)
}

// Decide returns whether id is allowed and, when not, why.
func (m *Matcher) Decide(id Identity) (bool, string) {
	listed := id.Kind == KindTransient || m.listedByUsers(id) || m.friends && id.Friend
	if !listed {
		return false, DenyNotListed
	}
	if m.twoFac && (id.TwoFactor == nil || !*id.TwoFactor) {
		return false, DenyTwoFactor
	}
	return true, ""
}
