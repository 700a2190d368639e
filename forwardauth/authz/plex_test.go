package authz

import (
	"testing"

	"github.com/plexgate/plexgate/forwardauth/config"
	"github.com/plexgate/plexgate/forwardauth/plex"
)

func TestPlexRulesDecide(t *testing.T) {
	on, off := true, false
	alice := plex.Identity{Kind: plex.KindAccount, ID: 3003, Username: "Alice", Email: "Alice@Example.com", TwoFactor: &on}
	bobShare := plex.Identity{Kind: plex.KindShare, ID: 2002, Username: "bob", Email: "bob@example.com", Friend: true}
	bobAcct := plex.Identity{Kind: plex.KindAccount, ID: 2002, Username: "bob", TwoFactor: &off, Friend: true}
	digits := plex.Identity{Kind: plex.KindAccount, ID: 77, Username: "3003"}
	transient := plex.Identity{Kind: plex.KindTransient}
	tests := []struct {
		name   string
		rules  config.AuthzConfig
		id     plex.Identity
		allow  bool
		reason string
	}{
		{"username, any case", config.AuthzConfig{PlexUsers: []string{"ALICE"}}, alice, true, ""},
		{"email, any case", config.AuthzConfig{PlexUsers: []string{"alice@example.COM"}}, alice, true, ""},
		{"account id", config.AuthzConfig{PlexUsers: []string{"3003"}}, alice, true, ""},
		{"digits never match a username", config.AuthzConfig{PlexUsers: []string{"3003"}}, digits, false, string(DenyPlexNotListed)},
		{"not listed", config.AuthzConfig{PlexUsers: []string{"carol"}}, alice, false, string(DenyPlexNotListed)},
		{"no rules", config.AuthzConfig{}, alice, false, string(DenyPlexNotListed)},
		{"friends allows a share", config.AuthzConfig{PlexFriends: true}, bobShare, true, ""},
		{"friends allows a friend's account", config.AuthzConfig{PlexFriends: true}, bobAcct, true, ""},
		{"friends does not allow others", config.AuthzConfig{PlexFriends: true}, alice, false, string(DenyPlexNotListed)},
		{"friend flag alone allows nothing", config.AuthzConfig{PlexUsers: []string{"alice"}}, bobShare, false, string(DenyPlexNotListed)},
		{"a share listed by username", config.AuthzConfig{PlexUsers: []string{"bob"}}, bobShare, true, ""},
		{"transient accepted by the server", config.AuthzConfig{PlexUsers: []string{"alice"}}, transient, true, ""},
		{"an account named plex-transient is a plain username", config.AuthzConfig{PlexUsers: []string{plex.TransientUser}}, plex.Identity{Kind: plex.KindAccount, ID: 9, Username: plex.TransientUser}, true, ""},
		{"two-factor on", config.AuthzConfig{PlexUsers: []string{"alice"}, PlexRequireTwoFactor: true}, alice, true, ""},
		{"two-factor off", config.AuthzConfig{PlexFriends: true, PlexRequireTwoFactor: true}, bobAcct, false, string(DenyPlexTwoFactor)},
		{"two-factor unknown (share)", config.AuthzConfig{PlexFriends: true, PlexRequireTwoFactor: true}, bobShare, false, string(DenyPlexTwoFactor)},
		{"two-factor unknown (transient)", config.AuthzConfig{PlexRequireTwoFactor: true}, transient, false, string(DenyPlexTwoFactor)},
		{"two-factor never allows by itself", config.AuthzConfig{PlexRequireTwoFactor: true}, alice, false, string(DenyPlexNotListed)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			allow, reason := NewPlexRules(tt.rules).Decide(tt.id)
			if allow != tt.allow || reason != tt.reason {
				t.Fatalf("Decide = %v, %q; want %v, %q", allow, reason, tt.allow, tt.reason)
			}
		})
	}
}

func TestPlexRulesNeedFriendshipOnlyWhenItDecides(t *testing.T) {
	alice := plex.Identity{Kind: plex.KindAccount, ID: 3003, Username: "alice"}
	if NewPlexRules(config.AuthzConfig{PlexUsers: []string{"alice"}, PlexFriends: true}).NeedsFriendship(alice) {
		t.Error("alice is listed: no need to read shared_servers")
	}
	if !NewPlexRules(config.AuthzConfig{PlexFriends: true}).NeedsFriendship(alice) {
		t.Error("plex_friends decides alice")
	}
	if NewPlexRules(config.AuthzConfig{PlexUsers: []string{"bob"}}).NeedsFriendship(alice) {
		t.Error("without plex_friends friendship never decides")
	}
}
