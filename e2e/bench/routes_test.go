package bench

import (
	"encoding/json"
	"testing"
)

func testSite() Site {
	return Site{EntryPort: 8000, PingPort: 8001, UpstreamURL: "http://127.0.0.1:9000", NullAuthURL: "http://127.0.0.1:9001",
		ForwardauthURL: "http://127.0.0.1:9002", PublicKeyPEM: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
		Issuer: "http://auth.plexgate.localhost", MissCacheEntries: 123, DynamicFile: "/tmp/d.yml"}
}

func TestDynamicConfigGatesEveryRouteButTheFirst(t *testing.T) {
	var cfg struct {
		HTTP struct {
			Routers map[string]struct {
				Rule        string   `json:"rule"`
				Middlewares []string `json:"middlewares"`
				Service     string   `json:"service"`
			} `json:"routers"`
			Middlewares map[string]map[string]map[string]any `json:"middlewares"`
		} `json:"http"`
	}
	if err := json.Unmarshal(DynamicConfig(testSite()), &cfg); err != nil {
		t.Fatal(err)
	}
	for _, r := range Routes {
		router, ok := cfg.HTTP.Routers[r.Name]
		wantMiddlewares := 1
		if r.ID == 1 {
			wantMiddlewares = 0
		}
		if !ok || router.Service != "upstream" || len(router.Middlewares) != wantMiddlewares || router.Rule != "Host(`"+r.Host()+"`)" {
			t.Errorf("route %d: router %+v", r.ID, router)
		}
	}
	mw := cfg.HTTP.Middlewares
	tests := []struct {
		what string
		ok   bool
	}{
		{"route 3 has the configured cache size", mw["plugin-miss"]["plugin"]["plexgate"].(map[string]any)["CacheMaxEntries"] == 123.0},
		{"route 2 verifies locally", mw["plugin-hit"]["plugin"]["plexgate"].(map[string]any)["PublicKeys"] != nil},
		{"route 4 has no key", mw["plugin-delegate"]["plugin"]["plexgate"].(map[string]any)["PublicKeys"] == nil},
		{"route 5 asks forwardauth", mw["forwardauth"]["forwardAuth"]["address"] == "http://127.0.0.1:9002/validate"},
		{"route 6 asks the null server", mw["nullauth"]["forwardAuth"]["address"] == "http://127.0.0.1:9001"},
		{"forwardAuth does not trust client X-Forwarded-*", mw["nullauth"]["forwardAuth"]["trustForwardHeader"] == false},
	}
	for _, tt := range tests {
		if !tt.ok {
			t.Errorf("%s: %v", tt.what, mw)
		}
	}
}

func TestStaticConfigServesPprofOnlyWhenAsked(t *testing.T) {
	for _, port := range []int{0, 8002} {
		s := testSite()
		s.PprofPort = port
		cfg := StaticConfig(s)
		if hasAPI := cfg.API != nil; hasAPI != (port != 0) {
			t.Errorf("PprofPort %d: api section present %t", port, hasAPI)
		}
		if cfg.AccessLog != nil {
			t.Error("access log configured; the benchmark runs without it")
		}
	}
}
