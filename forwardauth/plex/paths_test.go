package plex

import "testing"

func TestTokenPathsMatch(t *testing.T) {
	p := NewTokenPaths(DefaultTokenPaths)
	for uri, want := range map[string]bool{
		"/myplex/account": true,
		"/myplex":         true,
		"/MyPlex/Account": true,
		"/security/token?type=delegation&scope=all": true,
		"/security/token/":                          true,
		"//security//token":                         true,
		"/library/../security/token":                true,
		"/%73ecurity/token":                         true,
		"/security%2Ftoken":                         true,
		`/security\token`:                           true,
		"/bad%zzescape":                             true,
		"/myplexx":                                  false,
		"/security/tokens":                          false,
		"/security/resources":                       false,
		"/library/sections":                         false,
		"/web/index.html?u=/myplex/":                false,
		"/":                                         false,
	} {
		if got := p.Match(uri); got != want {
			t.Errorf("Match(%q) = %v, want %v", uri, got, want)
		}
	}
	if NewTokenPaths(nil).Match("/myplex/account") {
		t.Error("an empty list matched")
	}
}
