package config

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/traefik/paerser/flag"
	"github.com/traefik/traefik/v3/pkg/config/static"
	"github.com/traefik/traefik/v3/pkg/plugins"
)

const pluginModule = "github.com/plexgate/plexgate"

// withoutPlugins returns a shallow copy of conf without the plugin declarations.
func withoutPlugins(conf *static.Configuration) static.Configuration {
	out := *conf
	if out.Experimental != nil {
		exp := *out.Experimental
		exp.Plugins, exp.LocalPlugins = nil, nil
		out.Experimental = &exp
	}
	return out
}

// fieldMode returns the access-log mode of a field; Traefik matches field
// names case-insensitively.
func fieldMode(names map[string]string, field string) string {
	for k, v := range names {
		if strings.EqualFold(k, field) {
			return v
		}
	}
	return ""
}

// static/traefik.yml, the default, loads the plugin from plugins-local so
// that it works without a release; static/traefik.catalog.yml is the same
// setup with the catalog declaration, for a released tag.
func TestStaticFilesDifferOnlyInThePluginDeclaration(t *testing.T) {
	local := loadStatic(t, "static/traefik.yml")
	catalog := loadStatic(t, "static/traefik.catalog.yml")

	want := map[string]plugins.LocalDescriptor{"plexgate": {ModuleName: pluginModule}}
	if !reflect.DeepEqual(local.Experimental.LocalPlugins, want) {
		t.Errorf("traefik.yml: experimental.localPlugins = %+v, want %+v", local.Experimental.LocalPlugins, want)
	}
	if len(local.Experimental.Plugins) != 0 {
		t.Errorf("traefik.yml declares catalog plugins (they fail to load until the version is released): %+v", local.Experimental.Plugins)
	}
	got := catalog.Experimental.Plugins["plexgate"]
	if got.ModuleName != pluginModule || !semverTag.MatchString(got.Version) {
		t.Errorf("traefik.catalog.yml: experimental.plugins.plexgate = %+v, want moduleName %s and a vX.Y.Z version", got, pluginModule)
	}
	if len(catalog.Experimental.LocalPlugins) != 0 {
		t.Errorf("traefik.catalog.yml declares local plugins: %+v", catalog.Experimental.LocalPlugins)
	}
	if a, b := withoutPlugins(local), withoutPlugins(catalog); !reflect.DeepEqual(a, b) {
		t.Errorf("static files differ beyond the plugin declaration:\n traefik.yml:         %s\n traefik.catalog.yml: %s", jsonOf(t, a), jsonOf(t, b))
	}
}

// semverTag is the tag form the plugin catalog accepts (vMAJOR.MINOR.PATCH).
var semverTag = regexp.MustCompile(`^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$`)

func TestStaticFileDeclaresEntrypointsResolverAndProviders(t *testing.T) {
	conf := loadStatic(t, "static/traefik.yml")
	acme := conf.CertificatesResolvers["letsencrypt"].ACME
	tests := []struct {
		name string
		ok   bool
	}{
		{"entrypoint web on :80", conf.EntryPoints["web"] != nil && conf.EntryPoints["web"].Address == ":80"},
		{"web redirects permanently to websecure over https", conf.EntryPoints["web"] != nil &&
			conf.EntryPoints["web"].HTTP.Redirections != nil &&
			conf.EntryPoints["web"].HTTP.Redirections.EntryPoint.To == "websecure" &&
			conf.EntryPoints["web"].HTTP.Redirections.EntryPoint.Scheme == "https" &&
			conf.EntryPoints["web"].HTTP.Redirections.EntryPoint.Permanent},
		{"entrypoint websecure on :443", conf.EntryPoints["websecure"] != nil && conf.EntryPoints["websecure"].Address == ":443"},
		{"entrypoint plex on :32400", conf.EntryPoints["plex"] != nil && conf.EntryPoints["plex"].Address == ":32400"},
		{"entrypoint metrics on :8082", conf.EntryPoints["metrics"] != nil && conf.EntryPoints["metrics"].Address == ":8082"},
		{"ACME resolver letsencrypt with TLS-ALPN-01", acme != nil && acme.TLSChallenge != nil && acme.HTTPChallenge == nil && acme.DNSChallenge == nil},
		{"ACME storage, email and production CA set", acme != nil && acme.Storage != "" && acme.Email != "" &&
			acme.CAServer == "https://acme-v02.api.letsencrypt.org/directory"},
		{"file provider watches a directory", conf.Providers != nil && conf.Providers.File != nil &&
			conf.Providers.File.Directory != "" && conf.Providers.File.Watch},
		{"docker provider exposes nothing by default", conf.Providers != nil && conf.Providers.Docker != nil &&
			!conf.Providers.Docker.ExposedByDefault},
		{"prometheus metrics on the metrics entrypoint", conf.Metrics != nil && conf.Metrics.Prometheus != nil &&
			conf.Metrics.Prometheus.EntryPoint == "metrics"},
		{"ping on the metrics entrypoint", conf.Ping != nil && conf.Ping.EntryPoint == "metrics"},
		{"access log drops headers and the request path", conf.AccessLog != nil && conf.AccessLog.Fields != nil &&
			conf.AccessLog.Fields.Headers != nil && conf.AccessLog.Fields.Headers.DefaultMode == "drop" &&
			fieldMode(conf.AccessLog.Fields.Names, "RequestPath") == "drop"},
		{"no dashboard or insecure API", conf.API == nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.ok {
				t.Errorf("static/traefik.yml: want %s", tt.name)
			}
		})
	}
}

func TestComposeTraefikCommandMatchesStaticFile(t *testing.T) {
	compose := loadCompose(t, composeEnv(nil))
	fromFlags := &static.Configuration{}
	if err := flag.Decode(compose.Services["traefik"].Command, fromFlags); err != nil {
		t.Fatalf("decoding the traefik command of examples/docker-compose.yml: %v", err)
	}
	fromFile := loadStatic(t, "static/traefik.yml")
	// The compose setup routes with docker labels: its file provider reads
	// a directory holding only dynamic/tls.yml and dynamic/tcp.yml (see
	// composeRouting), as loading all of dynamic/ would declare every router
	// twice. Everything else must be the same.
	composeFile := fromFlags.Providers.File
	if composeFile == nil || composeFile.Directory != strings.TrimSuffix(composeDynamicDir, "/") || composeFile.Filename != "" || !composeFile.Watch {
		t.Errorf("compose traefik: providers.file = %+v, want directory %s, watched", composeFile, composeDynamicDir)
	}
	flagProviders := *fromFlags.Providers
	flagProviders.File = nil
	fromFlags.Providers = &flagProviders
	fileWithoutFileProvider := *fromFile
	providers := *fromFile.Providers
	providers.File = nil
	fileWithoutFileProvider.Providers = &providers
	if !reflect.DeepEqual(&fileWithoutFileProvider, fromFlags) {
		t.Errorf("compose traefik command differs from static/traefik.yml (file provider aside):\n file:  %s\n flags: %s",
			jsonOf(t, fileWithoutFileProvider), jsonOf(t, fromFlags))
	}
}

func TestComposePublishesThePublicEntrypointsAndNotMetrics(t *testing.T) {
	compose := loadCompose(t, composeEnv(nil))
	published := map[string]bool{}
	for _, p := range compose.Services["traefik"].Ports {
		published[p] = true
	}
	for _, want := range []string{"80:80", "443:443", "32400:32400"} {
		if !published[want] {
			t.Errorf("compose traefik does not publish %s", want)
		}
	}
	for p := range published {
		if strings.HasSuffix(p, ":8082") && !strings.HasPrefix(p, "127.0.0.1:") {
			t.Errorf("compose traefik publishes the metrics entrypoint beyond loopback: %s", p)
		}
	}
}

// siteLines are the static-configuration lines a site changes (and the
// end-to-end harness sets as typed fields), as listed at the top of each file.
var siteLines = []string{
	`address: ":80"`,
	`address: ":443"`,
	`address: ":32400"`,
	`address: ":8082"`,
	`email: admin@example.com`,
	`storage: /letsencrypt/acme.json`,
	`caServer: https://acme-v02.api.letsencrypt.org/directory`,
	`directory: /etc/traefik/dynamic`,
}

func TestSiteValuesAppearOnceOnTheirOwnLine(t *testing.T) {
	for _, name := range []string{"static/traefik.yml", "static/traefik.catalog.yml"} {
		raw, err := os.ReadFile(repoPath(name))
		if err != nil {
			t.Fatal(err)
		}
		count := map[string]int{}
		header := map[string]bool{}
		for _, line := range strings.Split(string(raw), "\n") {
			trimmed := strings.TrimSpace(line)
			count[trimmed]++
			for _, site := range siteLines {
				if strings.HasPrefix(trimmed, "#") && strings.Contains(trimmed, site) {
					header[site] = true
				}
			}
		}
		for _, site := range siteLines {
			if count[site] != 1 {
				t.Errorf("%s: site line %q appears %d times, want exactly once", name, site, count[site])
			}
			if !header[site] {
				t.Errorf("%s: site line %q is not listed in the comment at the top", name, site)
			}
		}
	}
}
