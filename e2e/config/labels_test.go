package config

import (
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/traefik/traefik/v3/pkg/config/dynamic"
	"github.com/traefik/traefik/v3/pkg/config/label"
)

// composeEnv returns env plus the variables docker-compose.yml requires
// (${NAME:?…}) but that do not appear in the routing configuration.
func composeEnv(env map[string]string) map[string]string {
	out := map[string]string{
		"PLEXGATE_OIDC_ISSUER":    "https://dev-123456.okta.com/oauth2/default",
		"PLEXGATE_OIDC_CLIENT_ID": "0oa1234567890abcdef",
		"PLEXGATE_PLEX_USERS":     "plexowner",
		// The static file's placeholder site value, so that the two compare equal.
		"PLEXGATE_ACME_EMAIL": "admin@example.com",
	}
	maps.Copy(out, env)
	return out
}

// labelConfiguration decodes the docker labels of every traefik.enable=true
// container with Traefik's label decoder and merges them, as the docker
// provider does for one provider namespace. The one thing labels cannot
// express is a server address by name: a label gives only a port, and the
// docker provider fills in the container's IP. That port is rewritten to
// "<compose service name>:<port>" (and "http://<service>:<port>" for HTTP),
// the address the container has on the compose network.
func labelConfiguration(compose composeFile) (*dynamic.Configuration, error) {
	merged := emptyRouting()
	for _, name := range slices.Sorted(maps.Keys(compose.Services)) {
		labels := compose.Services[name].Labels
		if labels["traefik.enable"] != "true" {
			continue
		}
		conf, err := label.DecodeConfiguration(labels)
		if err != nil {
			return nil, fmt.Errorf("labels of %s: %w", name, err)
		}
		resolveServerPorts(conf, name)
		if err := mergeRouting(merged, conf, name); err != nil {
			return nil, err
		}
	}
	return merged, nil
}

func emptyRouting() *dynamic.Configuration {
	return &dynamic.Configuration{
		HTTP: &dynamic.HTTPConfiguration{
			Routers:     map[string]*dynamic.Router{},
			Middlewares: map[string]*dynamic.Middleware{},
			Services:    map[string]*dynamic.Service{},
		},
		TCP: &dynamic.TCPConfiguration{
			Routers:  map[string]*dynamic.TCPRouter{},
			Services: map[string]*dynamic.TCPService{},
		},
	}
}

// resolveServerPorts turns port-only servers into the container's address.
func resolveServerPorts(conf *dynamic.Configuration, host string) {
	for _, svc := range conf.TCP.Services {
		if svc.LoadBalancer == nil {
			continue
		}
		for i, srv := range svc.LoadBalancer.Servers {
			if srv.Address == "" && srv.Port != "" {
				svc.LoadBalancer.Servers[i].Address = net.JoinHostPort(host, srv.Port)
				svc.LoadBalancer.Servers[i].Port = ""
			}
		}
	}
	for _, svc := range conf.HTTP.Services {
		if svc.LoadBalancer == nil {
			continue
		}
		for i, srv := range svc.LoadBalancer.Servers {
			if srv.URL == "" && srv.Port != "" {
				svc.LoadBalancer.Servers[i].URL = "http://" + net.JoinHostPort(host, srv.Port)
				svc.LoadBalancer.Servers[i].Port = ""
			}
		}
	}
}

// mergeRouting adds src's routing to dst; a name defined twice is an error
// (the docker provider would drop both definitions).
func mergeRouting(dst, src *dynamic.Configuration, from string) error {
	var errs []string
	add := func(kind string, dupes []string) {
		for _, d := range dupes {
			errs = append(errs, fmt.Sprintf("%s %q of %s is already defined by another container", kind, d, from))
		}
	}
	add("HTTP router", mergeMap(dst.HTTP.Routers, src.HTTP.Routers))
	add("HTTP middleware", mergeMap(dst.HTTP.Middlewares, src.HTTP.Middlewares))
	add("HTTP service", mergeMap(dst.HTTP.Services, src.HTTP.Services))
	add("TCP router", mergeMap(dst.TCP.Routers, src.TCP.Routers))
	add("TCP service", mergeMap(dst.TCP.Services, src.TCP.Services))
	if len(errs) > 0 {
		return fmt.Errorf("compose labels: %s", strings.Join(errs, "; "))
	}
	return nil
}

func mergeMap[V any](dst, src map[string]V) (dupes []string) {
	for k, v := range src {
		if _, ok := dst[k]; ok {
			dupes = append(dupes, k)
			continue
		}
		dst[k] = v
	}
	return dupes
}

// normalizePlugins writes every plugin option as the string a docker label
// carries: labels cannot type a value, and a list is a comma-separated string
// (Traefik's plugin decoder splits it back). Option names are lower-cased, as
// Traefik matches them case-insensitively.
func normalizePlugins(conf *dynamic.Configuration) {
	for _, mw := range conf.HTTP.Middlewares {
		for name, opts := range mw.Plugin {
			flat := dynamic.PluginConf{}
			for k, v := range opts {
				flat[strings.ToLower(k)] = pluginValueString(v)
			}
			mw.Plugin[name] = flat
		}
	}
}

func pluginValueString(v any) string {
	if list, ok := v.([]any); ok {
		parts := make([]string, len(list))
		for i, item := range list {
			parts[i] = fmt.Sprint(item)
		}
		return strings.Join(parts, ",")
	}
	return fmt.Sprint(v)
}

// routingSections lists the parts of a configuration compared between the
// dynamic files and the compose labels.
func routingSections(conf *dynamic.Configuration) map[string]any {
	return map[string]any{
		"HTTP router":     conf.HTTP.Routers,
		"HTTP middleware": conf.HTTP.Middlewares,
		"HTTP service":    conf.HTTP.Services,
		"TCP router":      conf.TCP.Routers,
		"TCP service":     conf.TCP.Services,
	}
}

// diffRouting describes every difference between two configurations' routing,
// item by item, as JSON.
func diffRouting(t *testing.T, fileConf, labelConf *dynamic.Configuration) []string {
	t.Helper()
	return diffSections(t, routingSections(fileConf), routingSections(labelConf), "the compose labels")
}

// diffSections compares dynamic/'s sections (kind → map of named items)
// with the same sections from other, item by item as JSON.
func diffSections(t *testing.T, fileSections, otherSections map[string]any, other string) []string {
	t.Helper()
	var diffs []string
	for _, kind := range slices.Sorted(maps.Keys(fileSections)) {
		fileItems, otherItems := jsonItems(t, fileSections[kind]), jsonItems(t, otherSections[kind])
		for _, name := range slices.Sorted(maps.Keys(fileItems)) {
			got, ok := otherItems[name]
			switch {
			case !ok:
				diffs = append(diffs, fmt.Sprintf("%s %q is in dynamic/ but not in %s", kind, name, other))
			case got != fileItems[name]:
				diffs = append(diffs, fmt.Sprintf("%s %q differs:\n dynamic/: %s\n %s: %s", kind, name, fileItems[name], other, got))
			}
		}
		for _, name := range slices.Sorted(maps.Keys(otherItems)) {
			if _, ok := fileItems[name]; !ok {
				diffs = append(diffs, fmt.Sprintf("%s %q is in %s but not in dynamic/", kind, name, other))
			}
		}
	}
	return diffs
}

// jsonItems marshals each entry of a map[string]*T to JSON.
func jsonItems(t *testing.T, section any) map[string]string {
	t.Helper()
	var items map[string]json.RawMessage
	if err := json.Unmarshal([]byte(jsonOf(t, section)), &items); err != nil {
		t.Fatalf("re-reading %T as JSON: %v", section, err)
	}
	out := make(map[string]string, len(items))
	for k, v := range items {
		out[k] = string(v)
	}
	return out
}

func TestComposeLabelsDescribeTheSameRoutingAsDynamicFiles(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
	}{
		{name: "defaults", env: nil},
		{name: "hosts and URLs set", env: map[string]string{
			"PLEXGATE_PLEX_HOST":           "media.home.test",
			"PLEXGATE_AUTH_HOST":           "login.home.test",
			"PLEXGATE_PLEX_URL":            "http://pms:32401",
			"PLEXGATE_FORWARDAUTH_URL":     "http://fa.internal:9000",
			"PLEXGATE_SESSION_AUDIENCE":    "media",
			"PLEXGATE_SESSION_COOKIE_NAME": "media_session",
		}},
		{name: "public URL set", env: map[string]string{
			"PLEXGATE_AUTH_HOST":  "login.home.test",
			"PLEXGATE_PUBLIC_URL": "https://login.home.test:8443",
		}},
		{name: "issuer set", env: map[string]string{
			"PLEXGATE_SESSION_ISSUER": "https://issuer.home.test",
		}},
		{name: "plex.direct passthrough on", env: map[string]string{
			"PLEXGATE_PLEX_DIRECT": "true", "PLEXGATE_PLEX_TLS_ADDRESS": "pms:32443",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fileConf := mustLoadDynamic(t, tt.env)
			labelConf := composeRouting(t, tt.env)
			normalizePlugins(fileConf)
			normalizePlugins(labelConf)
			for _, d := range diffRouting(t, fileConf, labelConf) {
				t.Error(d)
			}
		})
	}
}

// composeDynamicDir is where the compose file's Traefik reads dynamic files.
const composeDynamicDir = "/etc/traefik/dynamic/"

// composeRouting is everything the compose setup routes: the docker labels,
// plus what Traefik's file provider reads from the dynamic files mounted
// into the traefik service, rendered with that service's environment.
func composeRouting(t *testing.T, env map[string]string) *dynamic.Configuration {
	t.Helper()
	compose := loadCompose(t, composeEnv(env))
	conf, err := labelConfiguration(compose)
	if err != nil {
		t.Fatal(err)
	}
	traefik := compose.Services["traefik"]
	if !slices.Contains(traefik.Command, "--providers.file.directory="+strings.TrimSuffix(composeDynamicDir, "/")) {
		t.Fatalf("traefik's file provider does not read %s: %v", composeDynamicDir, traefik.Command)
	}
	dir := t.TempDir()
	for _, v := range traefik.Volumes {
		src, target, _ := strings.Cut(strings.TrimSuffix(v, ":ro"), ":")
		name, ok := strings.CutPrefix(target, composeDynamicDir)
		if !ok {
			continue
		}
		raw, err := os.ReadFile(repoPath(strings.TrimPrefix(src, "../")))
		if err != nil {
			t.Fatalf("mount %s: %v", v, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	setVariables(t, traefik.Environment)
	files, err := loadDynamic(dir)
	if err != nil {
		t.Fatalf("the compose file provider's files: %v", err)
	}
	if err := mergeRouting(conf, files, "the file provider"); err != nil {
		t.Fatal(err)
	}
	return conf
}
