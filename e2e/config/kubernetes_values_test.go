package config

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/plexgate/plexgate/e2e/harness"
	sigsyaml "sigs.k8s.io/yaml"
)

// traefikValues is the part of Traefik's Helm chart values that
// deploy/kubernetes sets; decoding is strict, so a key outside it fails.
type traefikValues struct {
	Image      struct{ Tag string } `json:"image"`
	Deployment struct {
		Replicas          int              `json:"replicas"`
		AdditionalVolumes []map[string]any `json:"additionalVolumes"`
		InitContainers    []map[string]any `json:"initContainers"`
	} `json:"deployment"`
	Global struct {
		CheckNewVersion    bool `json:"checkNewVersion"`
		SendAnonymousUsage bool `json:"sendAnonymousUsage"`
	} `json:"global"`
	Ports map[string]struct {
		Port        int `json:"port"`
		ExposedPort int `json:"exposedPort"`
		Expose      *struct {
			Default bool `json:"default"`
		} `json:"expose"`
		Protocol string `json:"protocol"`
		HTTP     *struct {
			Redirections struct {
				EntryPoint struct {
					To        string `json:"to"`
					Scheme    string `json:"scheme"`
					Permanent bool   `json:"permanent"`
				} `json:"entryPoint"`
			} `json:"redirections"`
		} `json:"http"`
	} `json:"ports"`
	Logs struct {
		Access struct {
			Enabled bool   `json:"enabled"`
			Format  string `json:"format"`
			Fields  struct {
				General struct {
					DefaultMode string            `json:"defaultmode"`
					Names       map[string]string `json:"names"`
				} `json:"general"`
				Headers struct {
					DefaultMode string `json:"defaultmode"`
				} `json:"headers"`
			} `json:"fields"`
		} `json:"access"`
	} `json:"logs"`
	CertificatesResolvers map[string]struct {
		ACME struct {
			Email        string    `json:"email"`
			Storage      string    `json:"storage"`
			TLSChallenge *struct{} `json:"tlsChallenge"`
		} `json:"acme"`
	} `json:"certificatesResolvers"`
	Persistence struct {
		Enabled bool   `json:"enabled"`
		Path    string `json:"path"`
		Size    string `json:"size"`
	} `json:"persistence"`
	Providers struct {
		KubernetesCRD     struct{ Enabled bool } `json:"kubernetesCRD"`
		KubernetesIngress struct{ Enabled bool } `json:"kubernetesIngress"`
	} `json:"providers"`
	IngressRoute struct {
		Dashboard struct{ Enabled bool } `json:"dashboard"`
	} `json:"ingressRoute"`
	Experimental struct {
		Plugins      map[string]*struct{ ModuleName, Version string } `json:"plugins"`
		LocalPlugins map[string]struct {
			ModuleName string `json:"moduleName"`
			MountPath  string `json:"mountPath"`
			Type       string `json:"type"`
			VolumeName string `json:"volumeName"`
		} `json:"localPlugins"`
	} `json:"experimental"`
}

// readValues reads Helm values files as `helm -f a -f b` merges them
// (maps merged key by key, null deletes a key) and decodes the result
// strictly into out.
func readValues(t *testing.T, out any, files ...string) {
	t.Helper()
	merged := map[string]any{}
	for _, f := range files {
		data, err := os.ReadFile(repoPath(k8sDir + f))
		if err != nil {
			t.Fatal(err)
		}
		var layer map[string]any
		if err := sigsyaml.Unmarshal(data, &layer); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		mergeValues(merged, layer)
	}
	data, err := sigsyaml.Marshal(merged)
	if err != nil {
		t.Fatal(err)
	}
	if err := sigsyaml.UnmarshalStrict(data, out); err != nil {
		t.Fatalf("%v: %v", files, err)
	}
}

func mergeValues(dst, src map[string]any) {
	for k, v := range src {
		sub, isMap := v.(map[string]any)
		have, haveMap := dst[k].(map[string]any)
		switch {
		case v == nil:
			delete(dst, k)
		case isMap && haveMap:
			mergeValues(have, sub)
		default:
			dst[k] = v
		}
	}
}

func TestTraefikHelmValuesMatchTheStaticFiles(t *testing.T) {
	var v traefikValues
	readValues(t, &v, "traefik-values.yaml")
	static := loadStatic(t, "static/traefik.catalog.yml")
	want := static.Experimental.Plugins["plexgate"]
	if got := v.Experimental.Plugins["plexgate"]; got == nil || got.ModuleName != want.ModuleName || got.Version != want.Version {
		t.Errorf("experimental.plugins.plexgate = %+v, want static/traefik.catalog.yml's %+v", got, want)
	}
	if v.Image.Tag != harness.TraefikVersion {
		t.Errorf("image.tag = %q, want the tested Traefik %s", v.Image.Tag, harness.TraefikVersion)
	}
	exposed := map[string]int{"web": 80, "websecure": 443, "plex": 32400}
	for name, port := range exposed {
		if p, ok := v.Ports[name]; !ok || p.ExposedPort != port {
			t.Errorf("ports.%s: want exposedPort %d (static/traefik.yml %s), got %+v", name, port, static.EntryPoints[name].Address, p)
		}
	}
	if web := v.Ports["web"].HTTP; web == nil || web.Redirections.EntryPoint.To != "websecure" ||
		web.Redirections.EntryPoint.Scheme != "https" || !web.Redirections.EntryPoint.Permanent {
		t.Error("ports.web: want a permanent https redirection to websecure, as static/traefik.yml")
	}
	acme := v.CertificatesResolvers["letsencrypt"].ACME
	if acme.TLSChallenge == nil || !v.Persistence.Enabled || !strings.HasPrefix(acme.Storage, v.Persistence.Path+"/") {
		t.Errorf("certificatesResolvers.letsencrypt: want TLS-ALPN-01 with storage on the persistent volume, got %+v, %+v", acme, v.Persistence)
	}
	access := v.Logs.Access
	if !access.Enabled || access.Fields.Headers.DefaultMode != "drop" || fieldMode(access.Fields.General.Names, "RequestPath") != "drop" {
		t.Errorf("logs.access: want headers and RequestPath dropped, as static/traefik.yml; got %+v", access)
	}
	if !v.Providers.KubernetesCRD.Enabled || v.IngressRoute.Dashboard.Enabled {
		t.Error("want the kubernetesCRD provider on and no dashboard route")
	}
	// Every entrypoint and resolver the IngressRoutes use exists in the values.
	m := loadApplied(t, "plex-direct.yaml")
	var entrypoints, resolvers []string
	for _, ir := range m.routes {
		entrypoints = append(entrypoints, ir.Spec.EntryPoints...)
		resolvers = append(resolvers, ir.Spec.TLS.CertResolver)
	}
	for _, ir := range m.tcpRoutes {
		entrypoints = append(entrypoints, ir.Spec.EntryPoints...)
	}
	for _, ep := range entrypoints {
		if _, ok := v.Ports[ep]; !ok {
			t.Errorf("an IngressRoute uses entrypoint %q, which the Helm values do not declare", ep)
		}
	}
	for _, r := range resolvers {
		if _, ok := v.CertificatesResolvers[r]; !ok {
			t.Errorf("an IngressRoute uses certResolver %q, which the Helm values do not declare", r)
		}
	}
}

func TestTraefikHelmLocalPluginVariantLoadsThePluginFromPluginsLocal(t *testing.T) {
	var v traefikValues
	readValues(t, &v, "traefik-values.yaml", "traefik-values-local.yaml")
	local := loadStatic(t, "static/traefik.yml").Experimental.LocalPlugins["plexgate"]
	got, ok := v.Experimental.LocalPlugins["plexgate"]
	if !ok || got.ModuleName != local.ModuleName || got.MountPath != "/plugins-local/src/"+local.ModuleName {
		t.Errorf("experimental.localPlugins.plexgate = %+v, want module %s under /plugins-local/src/", got, local.ModuleName)
	}
	if len(v.Experimental.Plugins) != 0 {
		t.Errorf("the local variant still declares catalog plugins: %v", v.Experimental.Plugins)
	}
	volumes := []string{}
	for _, vol := range v.Deployment.AdditionalVolumes {
		volumes = append(volumes, vol["name"].(string))
	}
	if got.Type != "localPath" || !slices.Contains(volumes, got.VolumeName) || len(v.Deployment.InitContainers) != 1 {
		t.Errorf("local plugin: want type localPath on an additional volume filled by an init container, got %+v, volumes %v", got, volumes)
	}
}

// plexValues is the part of the official Plex chart's values that
// deploy/kubernetes sets.
type plexValues struct {
	FullnameOverride string `json:"fullnameOverride"`
	Ingress          struct {
		Enabled bool `json:"enabled"`
	} `json:"ingress"`
	Service struct {
		Type string `json:"type"`
		Port int    `json:"port"`
	} `json:"service"`
	PMS struct {
		ConfigStorage  string            `json:"configStorage"`
		ClaimSecret    map[string]string `json:"claimSecret"`
		LivenessProbe  map[string]any    `json:"livenessProbe"`
		ReadinessProbe map[string]any    `json:"readinessProbe"`
	} `json:"pms"`
	ExtraEnv map[string]string `json:"extraEnv"`
}

func TestPlexChartValuesServeTheRoutesAndAdvertiseTheGatedDoors(t *testing.T) {
	var v plexValues
	readValues(t, &v, "plex-values.yaml")
	if v.Ingress.Enabled || v.Service.Type != "ClusterIP" {
		t.Error("Plex chart: want no Ingress of its own and a ClusterIP Service (Traefik is the only way in)")
	}
	m := loadApplied(t, "plex-direct.yaml")
	// Every route to a Service that the manifests do not define goes to the Plex chart's.
	check := func(kind, name, svc string, port int) {
		if _, ours := m.services[svc]; !ours && (svc != v.FullnameOverride || port != v.Service.Port) {
			t.Errorf("%s %s routes to %s:%d; the Plex chart's Service is %s:%d", kind, name, svc, port, v.FullnameOverride, v.Service.Port)
		}
	}
	for name, ir := range m.routes {
		for _, svc := range ir.Spec.Routes[0].Services {
			check("IngressRoute", name, svc.Name, svc.Port.IntValue())
		}
	}
	for name, ir := range m.tcpRoutes {
		for _, svc := range ir.Spec.Routes[0].Services {
			check("IngressRouteTCP", name, svc.Name, svc.Port.IntValue())
		}
	}
	advertised := strings.Split(v.ExtraEnv["ADVERTISE_IP"], ",")
	for _, want := range []string{"https://plex.example.com:443", "https://plex.example.com:32400"} {
		if !slices.Contains(advertised, want) {
			t.Errorf("ADVERTISE_IP %v lacks the gated door %s", advertised, want)
		}
	}
	if _, ok := v.ExtraEnv["ALLOWED_NETWORKS"]; ok {
		t.Error("ALLOWED_NETWORKS set: behind Traefik every request comes from a cluster address")
	}
}
