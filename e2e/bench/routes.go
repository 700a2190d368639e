package bench

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/plexgate/plexgate/e2e/harness"
)

// Route is one router of the benchmark's Traefik.
type Route struct {
	// ID is the route's number (1–6 the issue's, 7–10 added since).
	ID int
	// Name is a short label, also the first label of Host.
	Name string
	// What says in a few words what the route measures.
	What string
	// Plex is where the route's requests carry a Plex token instead of the
	// session cookie: "header" (X-Plex-Token) or "query"; "" for the cookie.
	Plex string
}

// Host is the route's Host header, under the session cookie's domain so
// that forwardauth accepts it as an original URL.
func (r Route) Host() string { return r.Name + "." + harness.Domain }

// Routes are the six routes in its order, then route 7, a
// diagnostic one: an empty Yaegi middleware (see floorFiles), then routes 8
// and 9: a Plex app's token (verified once by forwardauth with the
// stand-in plex.tv, then cache hits) in the header and in the query, then
// route 10: route 2's hit session, but one request in refreshEvery carries a
// session past its refresh point, seen for the first time (the plugin asks
// forwardauth, which re-issues it).
var Routes = []Route{
	{1, "noauth", "no authentication", ""},
	{2, "plugin-hit", "plugin, cache hit", ""},
	{3, "plugin-miss", "plugin, local verify (misses)", ""},
	{4, "plugin-delegate", "plugin, delegate mode (hits)", ""},
	{5, "forwardauth", "forwardAuth → forwardauth", ""},
	{6, "nullauth", "forwardAuth → null server", ""},
	{7, "yaegi-floor", "empty Yaegi plugin (diagnostic)", ""},
	{8, "plex-header", "plugin, Plex token hit (header)", "header"},
	{9, "plex-query", "plugin, Plex token hit (query)", "query"},
	{10, "plugin-refresh", "plugin, 1 in 10 refreshes", ""},
}

// refreshEvery is route 10's share of requests that refresh: one in this.
const refreshEvery = 10

// plexWebQuery is the query Plex Web sends with every call, the token last.
const plexWebQuery = "X-Plex-Product=Plex%20Web&X-Plex-Version=4.145.1&X-Plex-Client-Identifier=bench&X-Plex-Platform=Chrome&X-Plex-Token="

// Site is where the benchmark's parts listen, for the Traefik configuration.
type Site struct {
	// EntryPort is Traefik's plain-HTTP entrypoint; PingPort serves /ping.
	EntryPort, PingPort int
	// PprofPort, when not 0, serves Traefik's API with /debug/pprof.
	PprofPort int
	// UpstreamURL, NullAuthURL and ForwardauthURL are the servers Traefik
	// talks to.
	UpstreamURL, NullAuthURL, ForwardauthURL string
	// PublicKeyPEM is forwardauth's Ed25519 public key; Issuer its issuer.
	PublicKeyPEM, Issuer string
	// MissCacheEntries is route 3's CacheMaxEntries.
	MissCacheEntries int
	// DynamicFile is the path of the dynamic configuration file.
	DynamicFile string
}

// StaticConfig is Traefik's static configuration: one entrypoint for the
// load, one for /ping, no access log, the plugin and the empty one from
// plugins-local and the file provider reading DynamicFile.
func StaticConfig(s Site) *harness.Static {
	addr := func(port int) *harness.EntryPoint {
		return &harness.EntryPoint{Address: "127.0.0.1:" + strconv.Itoa(port)}
	}
	cfg := &harness.Static{
		Global:      &harness.Global{},
		Log:         &harness.Log{Level: "ERROR"},
		EntryPoints: map[string]*harness.EntryPoint{"bench": addr(s.EntryPort), "ping": addr(s.PingPort)},
		Ping:        &harness.Ping{EntryPoint: "ping"},
		Providers:   &harness.Providers{File: &harness.File{Filename: s.DynamicFile}},
		Experimental: &harness.Experimental{LocalPlugins: map[string]harness.LocalPlugin{
			"plexgate":   {ModuleName: "github.com/plexgate/plexgate"},
			"benchfloor": {ModuleName: floorModule},
		}},
	}
	if s.PprofPort != 0 {
		cfg.API = &harness.API{Debug: true, Insecure: true}
		cfg.EntryPoints["traefik"] = addr(s.PprofPort)
	}
	return cfg
}

// identityHeaders are the headers forwardauth sets and the plugin passes on.
var identityHeaders = []string{"X-Forwarded-User", "X-Forwarded-Email", "X-Forwarded-Groups"}

// DynamicConfig is the dynamic configuration: one router per route, all
// to the same upstream service.
func DynamicConfig(s Site) []byte {
	routers := map[string]any{}
	for _, r := range Routes {
		router := map[string]any{
			"entryPoints": []string{"bench"},
			"rule":        fmt.Sprintf("Host(`%s`)", r.Host()),
			"service":     "upstream",
		}
		if r.ID != 1 {
			router["middlewares"] = []string{r.Name}
		}
		routers[r.Name] = router
	}
	cfg := map[string]any{"http": map[string]any{
		"routers":     routers,
		"middlewares": middlewares(s),
		"services": map[string]any{"upstream": map[string]any{
			"loadBalancer": map[string]any{"servers": []any{map[string]any{"url": s.UpstreamURL}}},
		}},
	}}
	out, _ := json.MarshalIndent(cfg, "", "  ") // plain maps: cannot fail
	return out
}

// middlewares configures routes 2–6 (route 1 has none).
func middlewares(s Site) map[string]any {
	validate := s.ForwardauthURL + "/validate"
	plugin := func(extra map[string]any) map[string]any {
		c := map[string]any{"ValidateURL": validate, "AuthResponseHeaders": identityHeaders}
		for k, v := range extra {
			c[k] = v
		}
		return map[string]any{"plugin": map[string]any{"plexgate": c}}
	}
	local := map[string]any{"PublicKeys": s.PublicKeyPEM, "Issuer": s.Issuer}
	miss := map[string]any{"PublicKeys": s.PublicKeyPEM, "Issuer": s.Issuer, "CacheMaxEntries": s.MissCacheEntries}
	return map[string]any{
		"plugin-hit":      plugin(local),
		"plugin-miss":     plugin(miss),
		"plugin-delegate": plugin(nil),
		"forwardauth":     forwardAuth(validate),
		"nullauth":        forwardAuth(s.NullAuthURL),
		"yaegi-floor":     map[string]any{"plugin": map[string]any{"benchfloor": map[string]any{}}},
		"plex-header":     plugin(nil),
		"plex-query":      plugin(nil),
		"plugin-refresh":  plugin(local),
	}
}

// forwardAuth is Traefik's forwardAuth middleware set up like the shipped
// dynamic/auth.yml one.
func forwardAuth(address string) map[string]any {
	return map[string]any{"forwardAuth": map[string]any{
		"address":             address,
		"trustForwardHeader":  false,
		"authRequestHeaders":  []string{"Accept", "Authorization", "Cookie", "X-Requested-With"},
		"authResponseHeaders": identityHeaders,
	}}
}
