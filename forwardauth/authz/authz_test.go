package authz

import (
	"testing"

	"github.com/plexgate/plexgate/forwardauth/config"
)

func TestAuthorizationEdgeCases(t *testing.T) {
	byDomain := NewRules(config.AuthzConfig{Domains: []string{"example.com"}})
	byEmail := NewRules(config.AuthzConfig{Emails: []string{"Alice@Example.com"}})
	byGroup := NewRules(config.AuthzConfig{Groups: []string{"plex-users"}, GroupsClaim: "groups"})
	mfa := NewRules(config.AuthzConfig{AllowAll: true, RequireMFA: true, MFAAMR: []string{"mfa"}})
	tests := []struct {
		name   string
		a      *Rules
		claims Claims
		allow  bool
	}{
		{"control: domain member", byDomain, Claims{"email": "bob@example.com"}, true},
		{"domain in mixed case", byDomain, Claims{"email": "Bob@EXAMPLE.com"}, true},
		{"several @, allowed domain last", byDomain, Claims{"email": "bob@evil.example@example.com"}, false},
		{"several @, allowed domain first", byDomain, Claims{"email": "bob@example.com@evil.example"}, false},
		{"trailing dot", byDomain, Claims{"email": "bob@example.com."}, false},
		{"subdomain of an allowed domain", byDomain, Claims{"email": "bob@evil.example.com"}, false},
		{"look-alike domain", byDomain, Claims{"email": "bob@evilexample.com"}, false},
		{"no local part", byDomain, Claims{"email": "@example.com"}, false},
		{"unverified email", byDomain, Claims{"email": "bob@example.com", "email_verified": false}, false},
		{"email list in other case", byEmail, Claims{"email": "ALICE@example.COM"}, true},
		{"email list with trailing dot", byEmail, Claims{"email": "alice@example.com."}, false},
		{"email list, email not a string", byEmail, Claims{"email": []any{"alice@example.com"}}, false},
		{"groups as an array", byGroup, Claims{"groups": []any{"admins", "plex-users"}}, true},
		{"groups as one string", byGroup, Claims{"groups": "plex-users"}, true},
		{"groups as a comma-joined string", byGroup, Claims{"groups": "admins,plex-users"}, false},
		{"group in other case", byGroup, Claims{"groups": []any{"Plex-Users"}}, false},
		{"groups with non-strings", byGroup, Claims{"groups": []any{1, true, map[string]any{"plex-users": true}}}, false},
		{"mfa in amr", mfa, Claims{"amr": []any{"pwd", "mfa"}}, true},
		{"amr missing with MFA required", mfa, Claims{}, false},
		{"amr empty", mfa, Claims{"amr": []any{}}, false},
		{"amr without mfa", mfa, Claims{"amr": []any{"pwd"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := IdentityOf(tt.claims, "groups", config.HeadersConfig{UserClaim: "email"})
			if got := tt.a.Decide(id.Email, id.Groups, id.AMR, id.ACR) == Allowed; got != tt.allow {
				t.Fatalf("allowed=%v, want %v", got, tt.allow)
			}
		})
	}
}
