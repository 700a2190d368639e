package config

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

func TestForwardauthDeploymentIsReplicatedProbedAndLockedDown(t *testing.T) {
	m := loadApplied(t)
	d := m.deployments["forwardauth"]
	if d == nil || len(d.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("no forwardauth Deployment with one container: %+v", d)
	}
	pod := d.Spec.Template.Spec
	c := pod.Containers[0]
	probe := func(p *corev1.Probe) string {
		if p == nil || p.HTTPGet == nil {
			return ""
		}
		return p.HTTPGet.Path + " on " + p.HTTPGet.Port.String()
	}
	sc, psc := c.SecurityContext, pod.SecurityContext
	tests := []struct {
		what string
		ok   bool
	}{
		{"at least 2 replicas", d.Spec.Replicas != nil && *d.Spec.Replicas >= 2},
		{"rolling updates keep every replica serving", d.Spec.Strategy.RollingUpdate != nil &&
			d.Spec.Strategy.RollingUpdate.MaxUnavailable != nil && d.Spec.Strategy.RollingUpdate.MaxUnavailable.IntValue() == 0},
		{"readiness /readyz on the http port", probe(c.ReadinessProbe) == "/readyz on http"},
		{"liveness /healthz on the http port", probe(c.LivenessProbe) == "/healthz on http"},
		{"port http is 4181", len(c.Ports) == 1 && c.Ports[0].Name == "http" && c.Ports[0].ContainerPort == 4181},
		{"CPU and memory requested, memory limited", !c.Resources.Requests.Cpu().IsZero() &&
			!c.Resources.Requests.Memory().IsZero() && !c.Resources.Limits.Memory().IsZero()},
		{"runs as non-root", psc != nil && psc.RunAsNonRoot != nil && *psc.RunAsNonRoot && psc.RunAsUser != nil && *psc.RunAsUser != 0},
		{"read-only root, no privilege escalation, no capabilities", sc != nil && sc.ReadOnlyRootFilesystem != nil &&
			*sc.ReadOnlyRootFilesystem && sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation &&
			sc.Capabilities != nil && len(sc.Capabilities.Drop) == 1 && sc.Capabilities.Drop[0] == "ALL"},
		{"no service account token", pod.AutomountServiceAccountToken != nil && !*pod.AutomountServiceAccountToken},
	}
	for _, tt := range tests {
		if !tt.ok {
			t.Errorf("forwardauth Deployment: want %s", tt.what)
		}
	}
	podLabels := labels.Set(d.Spec.Template.Labels)
	if pdb := m.pdbs["forwardauth"]; pdb == nil || pdb.Spec.MinAvailable == nil || pdb.Spec.MinAvailable.IntValue() < 1 ||
		pdb.Spec.MinAvailable.IntValue() >= int(*d.Spec.Replicas) || !labels.SelectorFromSet(pdb.Spec.Selector.MatchLabels).Matches(podLabels) {
		t.Errorf("PodDisruptionBudget forwardauth: want minAvailable in [1, replicas) over the forwardauth pods, got %+v", pdb)
	}
	svc := m.services["forwardauth"]
	if svc == nil || !labels.SelectorFromSet(svc.Spec.Selector).Matches(podLabels) || len(svc.Spec.Ports) != 1 ||
		svc.Spec.Ports[0].Port != 4181 || svc.Spec.Ports[0].TargetPort.String() != "http" {
		t.Errorf("Service forwardauth: want port 4181 → http of the forwardauth pods, got %+v", svc)
	}
}

func TestOnlyTraefikReachesForwardauth(t *testing.T) {
	m := loadApplied(t)
	np := m.netpols["forwardauth"]
	podLabels := labels.Set(m.deployments["forwardauth"].Spec.Template.Labels)
	if np == nil || !labels.SelectorFromSet(np.Spec.PodSelector.MatchLabels).Matches(podLabels) ||
		len(np.Spec.PolicyTypes) != 1 || np.Spec.PolicyTypes[0] != "Ingress" || len(np.Spec.Ingress) != 1 {
		t.Fatalf("NetworkPolicy forwardauth: want one ingress rule over the forwardauth pods, got %+v", np)
	}
	rule := np.Spec.Ingress[0]
	if len(rule.From) != 1 || rule.From[0].NamespaceSelector == nil || rule.From[0].PodSelector == nil ||
		rule.From[0].NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] != "traefik" ||
		rule.From[0].PodSelector.MatchLabels["app.kubernetes.io/name"] != "traefik" {
		t.Errorf("NetworkPolicy forwardauth: want traffic only from Traefik's pods in namespace traefik, got %+v", rule.From)
	}
	if len(rule.Ports) != 1 || rule.Ports[0].Port == nil || rule.Ports[0].Port.String() != "http" {
		t.Errorf("NetworkPolicy forwardauth: want port http only, got %+v", rule.Ports)
	}
}

// documentedKeys are the dotted keys of examples/forwardauth.yml, the file
// that shows every forwardauth setting.
func documentedKeys(t *testing.T) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(repoPath("examples/forwardauth.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	flattenKeys("", doc, keys)
	return keys
}

func flattenKeys(prefix string, v any, out map[string]bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		out[prefix] = true
		return
	}
	for k, child := range m {
		flattenKeys(strings.TrimPrefix(prefix+"."+k, "."), child, out)
	}
}

func TestForwardauthSettingsAreKnownKeysAndSecretsAreMounted(t *testing.T) {
	m := loadManifests(t, "forwardauth.yaml", "secrets.yaml")
	known := documentedKeys(t)
	var conf map[string]any
	if err := yaml.Unmarshal([]byte(m.configMaps["forwardauth"].Data["forwardauth.yml"]), &conf); err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	flattenKeys("", conf, used)
	envKey := map[string]string{}
	for k := range known {
		envKey["PLEXGATE_"+strings.ToUpper(strings.ReplaceAll(k, ".", "_"))] = k
	}
	pod := m.deployments["forwardauth"].Spec.Template.Spec
	mounts := map[string]string{} // mount path → Secret name
	for _, vm := range pod.Containers[0].VolumeMounts {
		for _, v := range pod.Volumes {
			if v.Name == vm.Name && v.Secret != nil {
				mounts[vm.MountPath] = v.Secret.SecretName
			}
		}
	}
	for _, env := range pod.Containers[0].Env {
		key, ok := envKey[env.Name]
		if !ok {
			t.Errorf("env %s is no forwardauth setting", env.Name)
			continue
		}
		used[key] = true
		if strings.HasSuffix(key, "_file") && strings.HasPrefix(env.Value, "/run/secrets/") {
			secret := m.secrets[mounts[filepath.Dir(env.Value)]]
			if secret == nil || secret.StringData[filepath.Base(env.Value)] == "" {
				t.Errorf("env %s=%s: no Secret key mounted there (secrets.yaml)", env.Name, env.Value)
			}
		}
	}
	for k := range used {
		if !known[k] {
			t.Errorf("forwardauth setting %q is not in examples/forwardauth.yml", k)
		}
	}
	for _, must := range []string{"oidc.client_secret_file", "session.signing_key_file", "oidc.issuer", "public_url", "session.cookie_domain"} {
		if !used[must] {
			t.Errorf("forwardauth on Kubernetes does not set %s", must)
		}
	}
}

func TestSecretsAreOnlyPlaceholders(t *testing.T) {
	m := loadManifests(t, "secrets.yaml")
	if len(m.secrets) != 2 {
		t.Fatalf("want the signing key and the client secret, got %d Secrets", len(m.secrets))
	}
	pem := regexp.MustCompile(`-----BEGIN`)
	for name, s := range m.secrets {
		if len(s.Data) != 0 {
			t.Errorf("Secret %s carries data; only placeholders in stringData belong here", name)
		}
		for k, v := range s.StringData {
			if !strings.HasPrefix(v, "REPLACE-ME") || pem.MatchString(v) {
				t.Errorf("Secret %s key %s is not a placeholder: %.20q…", name, k, v)
			}
		}
	}
}
