package plex

import "testing"

func TestRulesDecide(t *testing.T) {
	on, off := true, false
	alice := Identity{Kind: KindAccount, ID: 3003, Username: "Alice", Email: "Alice@Example.com", TwoFactor: &on}
	bobShare := Identity{Kind: KindShare, ID: 2002, Username: "bob", Email: "bob@example.com", Friend: true}
	bobAcct := Identity{Kind: KindAccount, ID: 2002, Username: "bob", TwoFactor: &off, Friend: true}
	digits := Identity{Kind: KindAccount, ID: 77, Username: "3003"}
	transient := Identity{Kind: KindTransient}
	tests := []struct {
		name   string
		rules  Rules
		id     Identity
		allow  bool
		reason string
	}{
		{"username, any case", Rules{Users: []string{"ALICE"}}, alice, true, ""},
		{"email, any case", Rules{Users: []string{"alice@example.COM"}}, alice, true, ""},
		{"account id", Rules{Users: []string{"3003"}}, alice, true, ""},
		{"digits never match a username", Rules{Users: []string{"3003"}}, digits, false, DenyNotListed},
		{"not listed", Rules{Users: []string{"carol"}}, alice, false, DenyNotListed},
		{"no rules", Rules{}, alice, false, DenyNotListed},
		{"friends allows a share", Rules{Friends: true}, bobShare, true, ""},
		{"friends allows a friend's account", Rules{Friends: true}, bobAcct, true, ""},
		{"friends does not allow others", Rules{Friends: true}, alice, false, DenyNotListed},
		{"friend flag alone allows nothing", Rules{Users: []string{"alice"}}, bobShare, false, DenyNotListed},
		{"a share listed by username", Rules{Users: []string{"bob"}}, bobShare, true, ""},
		{"transient accepted by the server", Rules{Users: []string{"alice"}}, transient, true, ""},
		{"an account named plex-transient is a plain username", Rules{Users: []string{TransientUser}}, Identity{Kind: KindAccount, ID: 9, Username: TransientUser}, true, ""},
		{"two-factor on", Rules{Users: []string{"alice"}, RequireTwoFactor: true}, alice, true, ""},
		{"two-factor off", Rules{Friends: true, RequireTwoFactor: true}, bobAcct, false, DenyTwoFactor},
		{"two-factor unknown (share)", Rules{Friends: true, RequireTwoFactor: true}, bobShare, false, DenyTwoFactor},
		{"two-factor unknown (transient)", Rules{RequireTwoFactor: true}, transient, false, DenyTwoFactor},
		{"two-factor never allows by itself", Rules{RequireTwoFactor: true}, alice, false, DenyNotListed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			allow, reason := tt.rules.Compile().Decide(tt.id)
			if allow != tt.allow || reason != tt.reason {
				t.Fatalf("Decide = %v, %q; want %v, %q", allow, reason, tt.allow, tt.reason)
			}
		})
	}
}

func TestRulesNeedFriendshipOnlyWhenItDecides(t *testing.T) {
	alice := Identity{Kind: KindAccount, ID: 3003, Username: "alice"}
	if (Rules{Users: []string{"alice"}, Friends: true}).Compile().NeedsFriendship(alice) {
		t.Error("alice is listed: no need to read shared_servers")
	}
	if !(Rules{Friends: true}).Compile().NeedsFriendship(alice) {
		t.Error("plex_friends decides alice")
	}
	if (Rules{Users: []string{"bob"}}).Compile().NeedsFriendship(alice) {
		t.Error("without plex_friends friendship never decides")
	}
}

func TestRulesAllowsAndProblems(t *testing.T) {
	if (Rules{RequireTwoFactor: true}).Allows() || !(Rules{Friends: true}).Allows() || !(Rules{Users: []string{"a"}}).Allows() {
		t.Error("Allows: only plex_users and plex_friends can allow")
	}
	if p := (Rules{Users: []string{"alice", "", "bad\nname"}}).Problems(); len(p) != 2 {
		t.Errorf("Problems = %q, want 2", p)
	}
}

func TestIdentityHeaders(t *testing.T) {
	id := Identity{Kind: KindAccount, ID: 5, Username: "al\x00ice", Email: "alice@example.com"}
	if h := id.Headers("username"); h["X-Forwarded-User"] != "alice" || h["X-Forwarded-Email"] != "alice@example.com" || len(h) != 2 {
		t.Errorf("username headers = %v", h)
	}
	if got := id.User("email"); got != "alice@example.com" {
		t.Errorf("User(email) = %q", got)
	}
	if got := (Identity{Kind: KindShare, ID: 7, Email: "b@example.com"}).User("username"); got != "b@example.com" {
		t.Errorf("fallback to email = %q", got)
	}
	if got := (Identity{Kind: KindShare, ID: 7}).User("email"); got != "plex-7" {
		t.Errorf("fallback to id = %q", got)
	}
	if h := (Identity{Kind: KindTransient}).Headers("email"); h["X-Forwarded-User"] != TransientUser || len(h) != 1 {
		t.Errorf("transient headers = %v", h)
	}
}
