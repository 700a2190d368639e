package config

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/traefik/traefik/v3/pkg/config/dynamic"
)

// k8sEnv renders dynamic/ for Traefik in the cluster: the upstreams are the
// in-cluster addresses of the Services the IngressRoutes name.
var k8sEnv = map[string]string{
	"PLEXGATE_PLEX_URL":         "http://" + clusterAddr("plex", 32400),
	"PLEXGATE_PLEX_TLS_ADDRESS": clusterAddr("plex", 32400),
	"PLEXGATE_FORWARDAUTH_URL":  "http://" + clusterAddr("forwardauth", 4181),
}

// plexDirectEnv switches the *.plex.direct passthrough on in dynamic/.
var plexDirectEnv = map[string]string{"PLEXGATE_PLEX_DIRECT": "true"}

// pendingDoors are known differences between dynamic/ and the manifests;
// each must still be a difference (once they agree, delete its line).
var pendingDoors []string

// routerServicesAsAddresses replaces each router's service name by its
// servers' addresses, the form k8sRouting gives, and drops the services;
// TLS options are named without their provider (@file), as CRDs name them.
func routerServicesAsAddresses(conf *dynamic.Configuration) {
	for _, r := range conf.HTTP.Routers {
		if r.TLS != nil {
			r.TLS.Options = strings.TrimSuffix(r.TLS.Options, "@file")
		}
		if svc := conf.HTTP.Services[r.Service]; svc != nil && svc.LoadBalancer != nil {
			var urls []string
			for _, s := range svc.LoadBalancer.Servers {
				urls = append(urls, s.URL)
			}
			r.Service = strings.Join(urls, ",")
		}
	}
	for _, r := range conf.TCP.Routers {
		if svc := conf.TCP.Services[r.Service]; svc != nil && svc.LoadBalancer != nil {
			var addrs []string
			for _, s := range svc.LoadBalancer.Servers {
				addrs = append(addrs, s.Address)
			}
			r.Service = strings.Join(addrs, ",")
		}
	}
	conf.HTTP.Services, conf.TCP.Services = nil, nil
}

// diffK8s describes every difference between dynamic/ and the manifests'
// routers and middlewares, item by item.
func diffK8s(t *testing.T, fileConf, k8sConf *dynamic.Configuration) []string {
	t.Helper()
	normalizePlugins(fileConf)
	normalizePlugins(k8sConf)
	sections := func(c *dynamic.Configuration) map[string]any {
		var options any
		if c.TLS != nil {
			options = c.TLS.Options
		}
		return map[string]any{"HTTP router": c.HTTP.Routers, "HTTP middleware": c.HTTP.Middlewares,
			"TCP router": c.TCP.Routers, "TLS option": options}
	}
	return diffSections(t, sections(fileConf), sections(k8sConf), "the manifests")
}

// k8sScenario is dynamic/ and the manifests of one way of deploying.
type k8sScenario struct {
	name  string
	env   map[string]string
	extra []string
}

var k8sScenarios = []k8sScenario{
	{name: "default", env: k8sEnv},
	{name: "plex.direct on", env: mergedEnv(k8sEnv, plexDirectEnv), extra: []string{"plex-direct.yaml"}},
}

func mergedEnv(a, b map[string]string) map[string]string {
	out := maps.Clone(a)
	maps.Copy(out, b)
	return out
}

// scenarioConfs loads both sides of a scenario.
func scenarioConfs(t *testing.T, sc k8sScenario) (fileConf, k8sConf *dynamic.Configuration) {
	t.Helper()
	setVariables(t, sc.env)
	for k, v := range sc.env { // also those setVariables does not know of
		t.Setenv(k, v)
	}
	fileConf, err := loadDynamic(repoPath("dynamic"))
	if err != nil {
		t.Fatal(err)
	}
	routerServicesAsAddresses(fileConf)
	k8sConf, err = k8sRouting(loadApplied(t, sc.extra...))
	if err != nil {
		t.Fatal(err)
	}
	return fileConf, k8sConf
}

func TestKubernetesManifestsDescribeTheSameRoutingAsDynamicFiles(t *testing.T) {
	var seen []string
	for _, sc := range k8sScenarios {
		fileConf, k8sConf := scenarioConfs(t, sc)
		for _, d := range diffK8s(t, fileConf, k8sConf) {
			d = sc.name + ": " + d
			if slices.Contains(pendingDoors, d) {
				seen = append(seen, d)
				continue
			}
			t.Error(d)
		}
	}
	for _, p := range pendingDoors {
		if !slices.Contains(seen, p) {
			t.Errorf("dynamic/ and the manifests now agree on %q: delete it from pendingDoors", p)
		}
	}
}

// TestKubernetesComparisonSeesOneSidedEdits edits one side at a time; every
// edit must show as a difference of the item it touched.
func TestKubernetesComparisonSeesOneSidedEdits(t *testing.T) {
	edits := []struct {
		name, want string
		file, k8s  func(*dynamic.Configuration)
		env        map[string]string
	}{
		{name: "plugin option in the manifests", want: `HTTP middleware "plexgate" differs`,
			k8s: func(c *dynamic.Configuration) { c.HTTP.Middlewares["plexgate"].Plugin["plexgate"]["CacheTTL"] = "10m" }},
		{name: "audience in dynamic/ (env)", want: `HTTP middleware "plexgate" differs`,
			env: map[string]string{"PLEXGATE_SESSION_AUDIENCE": "media"}},
		{name: "forwardAuth header in dynamic/", want: `HTTP middleware "plexgate-forwardauth" differs`,
			file: func(c *dynamic.Configuration) {
				fa := c.HTTP.Middlewares["plexgate-forwardauth"].ForwardAuth
				fa.AuthResponseHeaders = fa.AuthResponseHeaders[:1]
			}},
		{name: "trustForwardHeader in the manifests", want: `HTTP middleware "plexgate-forwardauth" differs`,
			k8s: func(c *dynamic.Configuration) {
				c.HTTP.Middlewares["plexgate-forwardauth"].ForwardAuth.TrustForwardHeader = true
			}},
		{name: "a header in the manifests", want: `HTTP middleware "plexgate-headers" differs`,
			k8s: func(c *dynamic.Configuration) {
				c.HTTP.Middlewares["plexgate-headers"].Headers.CustomFrameOptionsValue = "DENY"
			}},
		{name: "a middleware only in dynamic/", want: `HTTP middleware "extra" is in dynamic/ but not`,
			file: func(c *dynamic.Configuration) { c.HTTP.Middlewares["extra"] = &dynamic.Middleware{} }},
		{name: "router middlewares in the manifests", want: `HTTP router "plex" differs`,
			k8s: func(c *dynamic.Configuration) { c.HTTP.Routers["plex"].Middlewares = []string{"plexgate"} }},
		{name: "auth host in dynamic/ (env)", want: `HTTP router "plexgate-auth" differs`,
			env: map[string]string{"PLEXGATE_AUTH_HOST": "login.example.com"}},
	}
	for _, e := range edits {
		t.Run(e.name, func(t *testing.T) {
			fileConf, k8sConf := scenarioConfs(t, k8sScenario{env: mergedEnv(k8sEnv, e.env)})
			if e.file != nil {
				e.file(fileConf)
			}
			if e.k8s != nil {
				e.k8s(k8sConf)
			}
			diffs := strings.Join(diffK8s(t, fileConf, k8sConf), "\n")
			if !strings.Contains(diffs, e.want) {
				t.Errorf("edit not seen: want %q among\n%s", e.want, diffs)
			}
		})
	}
}

func TestKubernetesManifestsDecodeStrictly(t *testing.T) {
	entries, err := os.ReadDir(repoPath(k8sDir))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), "-values.yaml") || strings.HasPrefix(e.Name(), "traefik-values") {
			continue // Helm values: TestTraefikHelmValues*, TestPlexChartValues*
		}
		loadManifests(t, e.Name()) // fails the test on any unknown field or kind
	}
	data, err := os.ReadFile(repoPath(k8sDir + "middlewares.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	withTypo := strings.Replace(string(data), "    trustForwardHeader: false", "    trustForwardHeaders: false", 1)
	if _, err := decodeManifests([]byte(withTypo)); err == nil || !strings.Contains(err.Error(), "trustForwardHeaders") {
		t.Errorf("a misspelt field decoded: err = %v", err)
	}
}

func TestKustomizationAppliesAllButTheOptInAndPlaceholderFiles(t *testing.T) {
	k := loadManifests(t, "kustomization.yaml").kustomize
	entries, err := filepath.Glob(repoPath(k8sDir + "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	notApplied := []string{"kustomization.yaml", "plex-direct.yaml", "secrets.yaml", "plex-values.yaml",
		"traefik-values.yaml", "traefik-values-local.yaml"}
	for _, path := range entries {
		name := filepath.Base(path)
		if applied := slices.Contains(k.Resources, name); applied == slices.Contains(notApplied, name) {
			t.Errorf("%s: applied by the kustomization = %t", name, applied)
		}
	}
	if m := loadManifests(t, "plex-direct.yaml"); len(m.tcpRoutes) == 0 {
		t.Error("plex-direct.yaml declares no IngressRouteTCP")
	}
}
