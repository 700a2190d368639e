package config

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/traefik/traefik/v3/pkg/config/dynamic"
	httpmuxer "github.com/traefik/traefik/v3/pkg/muxer/http"
	tcpmuxer "github.com/traefik/traefik/v3/pkg/muxer/tcp"
	"github.com/traefik/traefik/v3/pkg/tcp"
)

// matched is a TCP handler that only marks a route as chosen.
type matched struct{}

func (matched) ServeTCP(tcp.WriteCloser) {}

// clientConn is the accepted connection NewConnData reads the client's
// address from; nothing else of it is used.
type clientConn struct{ net.Conn }

func (clientConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(203, 0, 113, 7), Port: 50000}
}
func (clientConn) CloseWrite() error { return nil }

// expectation is one value of the rendered dynamic configuration.
type expectation struct {
	what string
	got  func(*dynamic.Configuration) any
	want any
}

func routerRule(name string) func(*dynamic.Configuration) any {
	return func(c *dynamic.Configuration) any { return c.HTTP.Routers[name].Rule }
}

func tcpRouterRule(name string) func(*dynamic.Configuration) any {
	return func(c *dynamic.Configuration) any { return c.TCP.Routers[name].Rule }
}

func pluginOption(key string) func(*dynamic.Configuration) any {
	return func(c *dynamic.Configuration) any { return c.HTTP.Middlewares["plexgate"].Plugin["plexgate"][key] }
}

func serviceURL(name string) func(*dynamic.Configuration) any {
	return func(c *dynamic.Configuration) any { return c.HTTP.Services[name].LoadBalancer.Servers[0].URL }
}

func tcpServiceAddress(name string) func(*dynamic.Configuration) any {
	return func(c *dynamic.Configuration) any { return c.TCP.Services[name].LoadBalancer.Servers[0].Address }
}

func forwardAuth(c *dynamic.Configuration) *dynamic.ForwardAuth {
	return c.HTTP.Middlewares["plexgate-forwardauth"].ForwardAuth
}

// checkAll reports every expectation that does not hold; a missing router or
// middleware is reported instead of panicking.
func checkAll(t *testing.T, conf *dynamic.Configuration, exps []expectation) {
	t.Helper()
	for _, e := range exps {
		got, err := safeGet(e.got, conf)
		if err != nil {
			t.Errorf("%s: %v", e.what, err)
			continue
		}
		if fmt.Sprint(got) != fmt.Sprint(e.want) {
			t.Errorf("%s = %v, want %v", e.what, got, e.want)
		}
	}
}

func safeGet(get func(*dynamic.Configuration) any, conf *dynamic.Configuration) (v any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("not in the configuration (%v)", r)
		}
	}()
	return get(conf), nil
}

func TestDynamicFilesRenderWithVariablesUnsetOrSet(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []expectation
	}{
		{name: "unset: defaults", env: nil, want: []expectation{
			{"plex router rule", routerRule("plex"), "Host(`plex.example.com`)"},
			{"auth router rule", routerRule("plexgate-auth"), "Host(`auth.example.com`) && !PathPrefix(`/metrics`)"},
			{"plex :32400 router rule", routerRule("plex-32400"), "Host(`plex.example.com`)"},
			{"no TCP router: plex.direct passthrough off", func(c *dynamic.Configuration) any { return len(c.TCP.Routers) }, 0},
			{"plugin ValidateURL", pluginOption("ValidateURL"), "http://forwardauth:4181/validate"},
			{"plugin JWKSURL", pluginOption("JWKSURL"), "http://forwardauth:4181/.well-known/jwks.json"},
			{"plugin Issuer", pluginOption("Issuer"), "https://auth.example.com"},
			{"plugin Audience", pluginOption("Audience"), "plexgate"},
			{"plugin CookieName", pluginOption("CookieName"), "plexgate_session"},
			{"plex service", serviceURL("plex"), "http://plex:32400"},
			{"forwardauth service", serviceURL("forwardauth"), "http://forwardauth:4181"},
			{"forwardAuth address", func(c *dynamic.Configuration) any { return forwardAuth(c).Address }, "http://forwardauth:4181/validate"},
		}},
		{name: "set", env: map[string]string{
			"PLEXGATE_PLEX_HOST":           "media.home.test",
			"PLEXGATE_AUTH_HOST":           "login.home.test",
			"PLEXGATE_PLEX_URL":            "http://127.0.0.1:41000",
			"PLEXGATE_PLEX_TLS_ADDRESS":    "127.0.0.1:41001",
			"PLEXGATE_PLEX_DIRECT":         "true",
			"PLEXGATE_FORWARDAUTH_URL":     "http://127.0.0.1:41002",
			"PLEXGATE_PUBLIC_URL":          "https://login.home.test:8443",
			"PLEXGATE_SESSION_AUDIENCE":    "media",
			"PLEXGATE_SESSION_COOKIE_NAME": "media_session",
		}, want: []expectation{
			{"plex router rule", routerRule("plex"), "Host(`media.home.test`)"},
			{"auth router rule", routerRule("plexgate-auth"), "Host(`login.home.test`) && !PathPrefix(`/metrics`)"},
			{"plex :32400 router rule", routerRule("plex-32400"), "Host(`media.home.test`)"},
			{"plex.direct on 443", tcpRouterRule("plex-direct-websecure"), "HostSNIRegexp(`^.+\\.plex\\.direct$`)"},
			{"plugin ValidateURL", pluginOption("ValidateURL"), "http://127.0.0.1:41002/validate"},
			{"plugin JWKSURL", pluginOption("JWKSURL"), "http://127.0.0.1:41002/.well-known/jwks.json"},
			{"plugin Issuer follows the public URL", pluginOption("Issuer"), "https://login.home.test:8443"},
			{"plugin Audience", pluginOption("Audience"), "media"},
			{"plugin CookieName", pluginOption("CookieName"), "media_session"},
			{"plex service", serviceURL("plex"), "http://127.0.0.1:41000"},
			{"forwardauth service", serviceURL("forwardauth"), "http://127.0.0.1:41002"},
			{"forwardAuth cookie", func(c *dynamic.Configuration) any { return forwardAuth(c).AddAuthCookiesToResponse }, []string{"media_session"}},
			{"plex-tls address", tcpServiceAddress("plex-tls"), "127.0.0.1:41001"},
		}},
		{name: "auth host only: issuer derived from it", env: map[string]string{"PLEXGATE_AUTH_HOST": "login.home.test"}, want: []expectation{
			{"plugin Issuer", pluginOption("Issuer"), "https://login.home.test"},
		}},
		{name: "issuer set: wins over the public URL", env: map[string]string{
			"PLEXGATE_PUBLIC_URL": "https://login.home.test", "PLEXGATE_SESSION_ISSUER": "https://issuer.home.test",
		}, want: []expectation{
			{"plugin Issuer", pluginOption("Issuer"), "https://issuer.home.test"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkAll(t, mustLoadDynamic(t, tt.env), tt.want)
		})
	}
}

func TestDynamicRoutersUseTheExpectedEntrypointsAndTLS(t *testing.T) {
	checkAll(t, mustLoadDynamic(t, nil), []expectation{
		{"plex router entrypoints", func(c *dynamic.Configuration) any { return c.HTTP.Routers["plex"].EntryPoints }, []string{"websecure"}},
		{"plex router middlewares", func(c *dynamic.Configuration) any { return c.HTTP.Routers["plex"].Middlewares }, []string{"plexgate-headers", "plexgate"}},
		{"plex router resolver", func(c *dynamic.Configuration) any { return c.HTTP.Routers["plex"].TLS.CertResolver }, "letsencrypt"},
		{"plex-32400 entrypoints", func(c *dynamic.Configuration) any { return c.HTTP.Routers["plex-32400"].EntryPoints }, []string{"plex"}},
		{"plex-32400 middlewares", func(c *dynamic.Configuration) any { return c.HTTP.Routers["plex-32400"].Middlewares }, []string{"plexgate-headers", "plexgate"}},
		{"plex-32400 resolver", func(c *dynamic.Configuration) any { return c.HTTP.Routers["plex-32400"].TLS.CertResolver }, "letsencrypt"},
		{"plex-32400 offers HTTP/1.1 only", func(c *dynamic.Configuration) any { return c.HTTP.Routers["plex-32400"].TLS.Options }, "plex-http1@file"},
		{"plex-32400 same service", func(c *dynamic.Configuration) any { return c.HTTP.Routers["plex-32400"].Service }, "plex"},
		{"auth router resolver", func(c *dynamic.Configuration) any { return c.HTTP.Routers["plexgate-auth"].TLS.CertResolver }, "letsencrypt"},
		{"forwardAuth never trusts client X-Forwarded-*", func(c *dynamic.Configuration) any { return forwardAuth(c).TrustForwardHeader }, false},
		{"forwardAuth identity headers", func(c *dynamic.Configuration) any { return forwardAuth(c).AuthResponseHeaders },
			[]string{"X-Forwarded-User", "X-Forwarded-Email", "X-Forwarded-Groups"}},
	})
	checkAll(t, mustLoadDynamic(t, map[string]string{"PLEXGATE_PLEX_DIRECT": "true"}), []expectation{
		{"plex.direct on 443", func(c *dynamic.Configuration) any { return c.TCP.Routers["plex-direct-websecure"].EntryPoints }, []string{"websecure"}},
		{"plex.direct on 32400", func(c *dynamic.Configuration) any { return c.TCP.Routers["plex-direct-plex"].EntryPoints }, []string{"plex"}},
		{"plex.direct passthrough on 443", func(c *dynamic.Configuration) any { return c.TCP.Routers["plex-direct-websecure"].TLS.Passthrough }, true},
		{"plex.direct passthrough on 32400", func(c *dynamic.Configuration) any { return c.TCP.Routers["plex-direct-plex"].TLS.Passthrough }, true},
	})
}

// Every door to the Plex host is gated: each HTTP router whose rule names
// the Plex host runs the plexgate plugin, and no TCP router (which no
// middleware can gate) names it, whatever the switch says.
func TestEveryDoorToThePlexHostIsGated(t *testing.T) {
	for _, direct := range []string{"", "true"} {
		conf := mustLoadDynamic(t, map[string]string{"PLEXGATE_PLEX_DIRECT": direct})
		doors := 0
		for name, r := range conf.HTTP.Routers {
			if !strings.Contains(r.Rule, "plex.example.com") {
				continue
			}
			doors++
			if !slices.Contains(r.Middlewares, "plexgate") {
				t.Errorf("HTTP router %s reaches the Plex host without the plexgate middleware: %v", name, r.Middlewares)
			}
		}
		if doors != 2 {
			t.Errorf("PLEXGATE_PLEX_DIRECT=%q: %d HTTP routers for the Plex host, want 2 (443 and 32400)", direct, doors)
		}
		for name, r := range conf.TCP.Routers {
			if strings.Contains(r.Rule, "plex.example.com") || !strings.Contains(r.Rule, "plex\\.direct") {
				t.Errorf("TCP router %s: rule %q; only *.plex.direct may bypass the gate", name, r.Rule)
			}
		}
	}
}

func TestPlexDirectPassthroughIsOffUnlessSwitchedOn(t *testing.T) {
	for _, tc := range []struct {
		value string
		on    bool
	}{{"", false}, {"false", false}, {"no", false}, {"1", false}, {"yes", false}, {"true", true}, {"TRUE", true}, {"True", true}} {
		t.Run(tc.value, func(t *testing.T) {
			conf := mustLoadDynamic(t, map[string]string{"PLEXGATE_PLEX_DIRECT": tc.value})
			on := len(conf.TCP.Routers) == 2 && len(conf.TCP.Services) == 1
			if on != tc.on || !on && (len(conf.TCP.Routers) != 0 || len(conf.TCP.Services) != 0) {
				t.Fatalf("PLEXGATE_PLEX_DIRECT=%q: TCP routers %d services %d, want passthrough on=%t", tc.value, len(conf.TCP.Routers), len(conf.TCP.Services), tc.on)
			}
		})
	}
}

// The rules must compile with Traefik v3's own matchers: a v2-style rule or
// a bad regexp would only show up as an error in Traefik's log.
func TestDynamicRulesParseWithTraefikMatchers(t *testing.T) {
	conf := mustLoadDynamic(t, map[string]string{"PLEXGATE_PLEX_DIRECT": "true"})
	parser, err := httpmuxer.NewSyntaxParser()
	if err != nil {
		t.Fatal(err)
	}
	httpMuxer := httpmuxer.NewMuxer(parser)
	for name, r := range conf.HTTP.Routers {
		if err := httpMuxer.AddRoute(r.Rule, r.RuleSyntax, 0, http.NotFoundHandler()); err != nil {
			t.Errorf("HTTP router %s: rule %q: %v", name, r.Rule, err)
		}
	}
	tcpMuxer, err := tcpmuxer.NewMuxer()
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range conf.TCP.Routers {
		if err := tcpMuxer.AddRoute(r.Rule, r.RuleSyntax, 0, matched{}); err != nil {
			t.Errorf("TCP router %s: rule %q: %v", name, r.Rule, err)
		}
	}
}

func TestPlexDirectRuleMatchesOnlyPlexDirectNames(t *testing.T) {
	conf := mustLoadDynamic(t, map[string]string{"PLEXGATE_PLEX_DIRECT": "true"})
	rule := conf.TCP.Routers["plex-direct-websecure"].Rule
	tests := []struct {
		sni  string
		want bool
	}{
		{"192-168-1-10.0123456789abcdef0123456789abcdef.plex.direct", true},
		{"x.plex.direct", true},
		{"plex.direct", false},
		{"plex.example.com", false},
		{"evil.plex.direct.example.com", false},
		{"plexxdirect", false},
	}
	for _, tt := range tests {
		t.Run(tt.sni, func(t *testing.T) {
			if got := matchSNI(t, rule, tt.sni); got != tt.want {
				t.Errorf("%s matches %q = %v, want %v", rule, tt.sni, got, tt.want)
			}
		})
	}
}

// matchSNI reports whether a TCP rule matches a TLS connection with this SNI.
func matchSNI(t *testing.T, rule, sni string) bool {
	t.Helper()
	muxer, err := tcpmuxer.NewMuxer()
	if err != nil {
		t.Fatal(err)
	}
	if err := muxer.AddRoute(rule, "", 0, matched{}); err != nil {
		t.Fatalf("rule %q: %v", rule, err)
	}
	meta, err := tcpmuxer.NewConnData(sni, clientConn{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	handler, _ := muxer.Match(meta)
	return handler != nil
}

func TestDynamicDirectoryHoldsOnlyTemplatedYAML(t *testing.T) {
	entries, err := os.ReadDir(repoPath("dynamic"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.IsDir() || !slices.Contains([]string{".yml", ".yaml"}, ext) {
			t.Errorf("dynamic/%s: the file provider loads every .yml/.toml file and subdirectory; keep only the shipped .yml files here", e.Name())
		}
	}
}

// The tests' variables table (and so .env.example) holds the real defaults:
// setting every variable to it renders the same configuration as leaving all
// of them unset.
func TestVariableDefaultsMatchTheTemplates(t *testing.T) {
	unset := jsonOf(t, mustLoadDynamic(t, nil))
	set := jsonOf(t, mustLoadDynamic(t, variables))
	if unset != set {
		t.Errorf("dynamic/ with every variable at its documented default differs from dynamic/ with none set:\n unset: %s\n set:   %s", unset, set)
	}
}
