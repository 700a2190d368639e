package plex

import "testing"

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
