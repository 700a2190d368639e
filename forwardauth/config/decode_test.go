package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLoadNamesUnknownKeysByPathWithASuggestion(t *testing.T) {
	tests := []struct{ file, want string }{
		{"cookie:\n  name: s\n", "cookie: unknown key (did you mean session.cookie_name?)"},
		{"session:\n  cookie_nme: s\n", "session.cookie_nme: unknown key (did you mean session.cookie_name?)"},
		{"oidc:\n  client_idd: x\n", "oidc.client_idd: unknown key (did you mean oidc.client_id?)"},
		{"client_id: x\n", "client_id: unknown key (did you mean oidc.client_id?)"},
		{"session_max_age: 1h\n", "session_max_age: unknown key (did you mean session.max_age?)"},
		{"Session:\n  max_age: 1h\n", "Session: unknown key (did you mean session?)"},
		{"authz:\n  mfa_amrs: [mfa]\n", "authz.mfa_amrs: unknown key (did you mean authz.mfa_amr?)"},
		{"jellyfin:\n  token: x\n", "jellyfin: unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := Load(writeFile(t, "c.yml", tt.file), nil, nil)
			if got := ProblemsOf(err); !slices.Equal(got, []string{tt.want}) {
				t.Errorf("problems %q, want [%q]", got, tt.want)
			}
		})
	}
}

func TestLoadNamesWrongTypesByPath(t *testing.T) {
	tests := []struct{ file, want string }{
		{"session:\n  max_age: \"abc\"\n", `session.max_age: "abc" is not a duration (e.g. 12h, 30m, 90s)`},
		{"session:\n  secure: maybe\n", `session.secure: "maybe" is not true or false`},
		{"oidc:\n  scopes: openid\n", `oidc.scopes: must be a list (e.g. [a, b]), not "openid"`},
		{"oidc:\n  issuer: [a, b]\n", `oidc.issuer: must be a single value, not a list`},
		{"headers:\n  claims: [given_name]\n", `headers.claims: must be a mapping (e.g. {given_name: X-Given-Name}), not a list`},
		{"session: 12h\n", `session: must be a mapping of keys, not "12h"`},
		{"- listen\n", `(top level): must be a mapping of keys, not a list`},
		{"listen: \":1\"\nlisten: \":2\"\n", `listen: set twice (lines 1 and 2)`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := Load(writeFile(t, "c.yml", tt.file), nil, nil)
			if got := ProblemsOf(err); !slices.Equal(got, []string{tt.want}) {
				t.Errorf("problems %q, want [%q]", got, tt.want)
			}
		})
	}
}

func TestLoadAppliesTheRestOfAFileWithProblems(t *testing.T) {
	file := "cookie:\n  name: s\noidc:\n  client_id: kept\n  scopes: openid\nsession:\n  max_age: 2h\n  leeway: soon\n"
	cfg, err := Load(writeFile(t, "c.yml", file), nil, nil)
	if len(ProblemsOf(err)) != 3 {
		t.Errorf("problems %q, want 3", ProblemsOf(err))
	}
	if cfg.OIDC.ClientID != "kept" || cfg.Session.MaxAge != 2*time.Hour || cfg.Session.Leeway != Default().Session.Leeway ||
		!slices.Equal(cfg.OIDC.Scopes, Default().OIDC.Scopes) {
		t.Errorf("client_id %q, max_age %s, leeway %s, scopes %q", cfg.OIDC.ClientID, cfg.Session.MaxAge, cfg.Session.Leeway, cfg.OIDC.Scopes)
	}
}

// The file names a signing key that does not exist: CheckFiles' problem
// comes in the same run as the others.
func TestLoadAndCheckReportsEveryProblemAtOnce(t *testing.T) {
	env := mapEnv(map[string]string{"PLEXGATE_SESSION_LEEWAY": "soon", "PLEXGATE_AUTHZ_ALLOW_ALL": "perhaps"})
	flags := map[string]string{"oidc.use_userinfo": "sometimes"}
	_, err := LoadAndCheck("testdata/every-problem.yml", env, flags)
	got := ProblemsOf(err)
	want := []string{
		"cookie: unknown key (did you mean session.cookie_name?)",
		"oidc.client_idd: unknown key (did you mean oidc.client_id?)",
		"session.cookie_nme: unknown key (did you mean session.cookie_name?)",
		`session.max_age: "abc" is not a duration (e.g. 12h, 30m, 90s)`,
		`session.secure: "maybe" is not true or false`,
		`authz.emails: must be a list (e.g. [a, b]), not "alice@example.com"`,
		`session.leeway: "soon" is not a duration (e.g. 12h, 30m, 90s) (from PLEXGATE_SESSION_LEEWAY)`,
		`authz.allow_all: "perhaps" is not true or false (from PLEXGATE_AUTHZ_ALLOW_ALL)`,
		`oidc.use_userinfo: "sometimes" is not true or false (from -oidc.use_userinfo)`,
		"log.format: \"xml\" must be text or json",
		"oidc.client_id: is required",
		"authz: no rule allows anyone: set authz.allow_all or authz.emails, authz.domains, authz.groups",
		"session.signing_key_file: /etc/plexgate/session.pem does not exist: create it, or mount it into the container (compose: the secrets: section)",
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("missing problem %q", w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d problems, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for _, goName := range []string{"config.Config", "main.Config", "time.Duration", "[]string", "!!str", "unmarshal", "field "} {
		if strings.Contains(strings.Join(got, "\n"), goName) {
			t.Errorf("a problem speaks Go (%s):\n%s", goName, strings.Join(got, "\n"))
		}
	}
}

func TestLoadAndCheckStopsAtAnUnreadableOrBrokenFile(t *testing.T) {
	for name, path := range map[string]string{
		"missing": "testdata/no-such-file.yml",
		"broken":  writeFile(t, "broken.yml", "oidc: [\n"),
	} {
		_, err := LoadAndCheck(path, nil, nil)
		if got := ProblemsOf(err); len(got) != 1 || strings.Contains(got[0], "is required") {
			t.Errorf("%s: problems %q, want the file's error alone", name, got)
		}
	}
}

func TestLoadKeepsDefaultsForEmptyScalars(t *testing.T) {
	cfg, err := Load(writeFile(t, "c.yml", "log:\n  level:\nsession:\n  cookie_name:\n  max_age:\nauthz:\n  mfa_amr:\n"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Log.Level != "info" || cfg.Session.CookieName != "plexgate_session" || cfg.Session.MaxAge != 12*time.Hour || cfg.Authz.MFAAMR != nil {
		t.Errorf("log.level %q, cookie_name %q, max_age %s, mfa_amr %q", cfg.Log.Level, cfg.Session.CookieName, cfg.Session.MaxAge, cfg.Authz.MFAAMR)
	}
}
