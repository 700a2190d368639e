package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/traefik/traefik/v3/pkg/config/dynamic"
	traefikv1alpha1 "github.com/traefik/traefik/v3/pkg/provider/kubernetes/crd/traefikio/v1alpha1"
	"github.com/traefik/traefik/v3/pkg/tls"
	"go.yaml.in/yaml/v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	sigsyaml "sigs.k8s.io/yaml"
)

// k8sDir is where the Kubernetes manifests live, relative to the repository root.
const k8sDir = "deploy/kubernetes/"

// k8sNamespace is the namespace the kustomization puts every resource in.
const k8sNamespace = "plex"

// k8sKinds maps apiVersion/kind to the Go type a manifest decodes into:
// Traefik's own CRD types and the Kubernetes API types.
var k8sKinds = map[string]func() any{
	"v1/Namespace":                                  func() any { return &corev1.Namespace{} },
	"v1/ConfigMap":                                  func() any { return &corev1.ConfigMap{} },
	"v1/Secret":                                     func() any { return &corev1.Secret{} },
	"v1/Service":                                    func() any { return &corev1.Service{} },
	"apps/v1/Deployment":                            func() any { return &appsv1.Deployment{} },
	"policy/v1/PodDisruptionBudget":                 func() any { return &policyv1.PodDisruptionBudget{} },
	"networking.k8s.io/v1/NetworkPolicy":            func() any { return &networkingv1.NetworkPolicy{} },
	"traefik.io/v1alpha1/Middleware":                func() any { return &traefikv1alpha1.Middleware{} },
	"traefik.io/v1alpha1/IngressRoute":              func() any { return &traefikv1alpha1.IngressRoute{} },
	"traefik.io/v1alpha1/IngressRouteTCP":           func() any { return &traefikv1alpha1.IngressRouteTCP{} },
	"traefik.io/v1alpha1/TLSOption":                 func() any { return &traefikv1alpha1.TLSOption{} },
	"kustomize.config.k8s.io/v1beta1/Kustomization": func() any { return &kustomization{} },
}

// kustomization is the part of a kustomization.yaml the manifests use.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Namespace  string   `json:"namespace"`
	Resources  []string `json:"resources"`
}

// decodeManifests decodes every document of a YAML stream strictly (an
// unknown field or a kind not in k8sKinds is an error) into its typed form.
func decodeManifests(data []byte) ([]any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []any
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return nil, err
		}
		raw, err := yaml.Marshal(&doc)
		if err != nil {
			return nil, err
		}
		var meta struct{ APIVersion, Kind string }
		if err := sigsyaml.Unmarshal(raw, &meta); err != nil {
			return nil, err
		}
		newObj, ok := k8sKinds[meta.APIVersion+"/"+meta.Kind]
		if !ok {
			return nil, fmt.Errorf("unexpected kind %s/%s", meta.APIVersion, meta.Kind)
		}
		obj := newObj()
		if err := sigsyaml.UnmarshalStrict(raw, obj); err != nil {
			return nil, fmt.Errorf("%s: %w", meta.Kind, err)
		}
		out = append(out, obj)
	}
}

// manifests are decoded manifests by kind and name.
type manifests struct {
	middlewares map[string]*traefikv1alpha1.Middleware
	routes      map[string]*traefikv1alpha1.IngressRoute
	tcpRoutes   map[string]*traefikv1alpha1.IngressRouteTCP
	tlsOptions  map[string]*traefikv1alpha1.TLSOption
	services    map[string]*corev1.Service
	secrets     map[string]*corev1.Secret
	configMaps  map[string]*corev1.ConfigMap
	deployments map[string]*appsv1.Deployment
	pdbs        map[string]*policyv1.PodDisruptionBudget
	netpols     map[string]*networkingv1.NetworkPolicy
	kustomize   *kustomization
}

// loadManifests decodes the named files of deploy/kubernetes/.
func loadManifests(t *testing.T, files ...string) *manifests {
	t.Helper()
	m := &manifests{middlewares: map[string]*traefikv1alpha1.Middleware{}, routes: map[string]*traefikv1alpha1.IngressRoute{},
		tcpRoutes: map[string]*traefikv1alpha1.IngressRouteTCP{}, tlsOptions: map[string]*traefikv1alpha1.TLSOption{}, services: map[string]*corev1.Service{},
		secrets: map[string]*corev1.Secret{}, configMaps: map[string]*corev1.ConfigMap{},
		deployments: map[string]*appsv1.Deployment{}, pdbs: map[string]*policyv1.PodDisruptionBudget{},
		netpols: map[string]*networkingv1.NetworkPolicy{}}
	for _, f := range files {
		data, err := os.ReadFile(repoPath(k8sDir + f))
		if err != nil {
			t.Fatal(err)
		}
		objs, err := decodeManifests(data)
		if err != nil {
			t.Fatalf("%s%s: %v", k8sDir, f, err)
		}
		for _, obj := range objs {
			m.add(obj)
		}
	}
	return m
}

func (m *manifests) add(obj any) {
	switch o := obj.(type) {
	case *traefikv1alpha1.Middleware:
		m.middlewares[o.Name] = o
	case *traefikv1alpha1.IngressRoute:
		m.routes[o.Name] = o
	case *traefikv1alpha1.IngressRouteTCP:
		m.tcpRoutes[o.Name] = o
	case *traefikv1alpha1.TLSOption:
		m.tlsOptions[o.Name] = o
	case *corev1.Service:
		m.services[o.Name] = o
	case *corev1.Secret:
		m.secrets[o.Name] = o
	case *corev1.ConfigMap:
		m.configMaps[o.Name] = o
	case *appsv1.Deployment:
		m.deployments[o.Name] = o
	case *policyv1.PodDisruptionBudget:
		m.pdbs[o.Name] = o
	case *networkingv1.NetworkPolicy:
		m.netpols[o.Name] = o
	case *kustomization:
		m.kustomize = o
	}
}

// loadApplied decodes what `kubectl apply -k deploy/kubernetes/` applies,
// plus the extra (opt-in) files.
func loadApplied(t *testing.T, extra ...string) *manifests {
	t.Helper()
	k := loadManifests(t, "kustomization.yaml").kustomize
	if k == nil || k.Namespace != k8sNamespace {
		t.Fatalf("kustomization.yaml: want namespace %s, got %+v", k8sNamespace, k)
	}
	return loadManifests(t, append(append([]string{}, k.Resources...), extra...)...)
}

// clusterAddr is the in-cluster address of a Service port: what the file
// provider's server URL is when Traefik runs in the cluster.
func clusterAddr(name string, port int) string {
	return name + "." + k8sNamespace + ".svc.cluster.local:" + strconv.Itoa(port)
}

// k8sRouting converts the CRDs into Traefik's dynamic configuration as the
// kubernetescrd provider does: middlewares by the same defaulting and field
// names, routers with their service given as its in-cluster address (the
// file provider's routers get theirs from their service's servers).
func k8sRouting(m *manifests) (*dynamic.Configuration, error) {
	conf := emptyRouting()
	conf.TLS = &dynamic.TLSConfiguration{Options: map[string]tls.Options{}}
	for name, mw := range m.middlewares {
		converted, err := middlewareFromCRD(mw.Spec)
		if err != nil {
			return nil, fmt.Errorf("middleware %s: %w", name, err)
		}
		conf.HTTP.Middlewares[name] = converted
	}
	for name, opt := range m.tlsOptions {
		converted := tls.Options{}
		converted.SetDefaults()
		if err := decodeStrictJSON(opt.Spec, &converted); err != nil {
			return nil, fmt.Errorf("TLSOption %s: %w", name, err)
		}
		conf.TLS.Options[name] = converted
	}
	for name, ir := range m.routes {
		if len(ir.Spec.Routes) != 1 || len(ir.Spec.Routes[0].Services) != 1 {
			return nil, fmt.Errorf("IngressRoute %s: want one route with one service", name)
		}
		r := ir.Spec.Routes[0]
		router := &dynamic.Router{EntryPoints: ir.Spec.EntryPoints, Rule: r.Match, Priority: r.Priority,
			Service: "http://" + clusterAddr(r.Services[0].Name, r.Services[0].Port.IntValue())}
		for _, ref := range r.Middlewares {
			if ref.Namespace != "" && ref.Namespace != k8sNamespace {
				return nil, fmt.Errorf("IngressRoute %s: middleware %s in another namespace", name, ref.Name)
			}
			router.Middlewares = append(router.Middlewares, ref.Name)
		}
		if irTLS := ir.Spec.TLS; irTLS != nil {
			router.TLS = &dynamic.RouterTLSConfig{CertResolver: irTLS.CertResolver}
			if irTLS.Options != nil {
				router.TLS.Options = irTLS.Options.Name
			}
		}
		conf.HTTP.Routers[name] = router
	}
	for name, ir := range m.tcpRoutes {
		if len(ir.Spec.Routes) != 1 || len(ir.Spec.Routes[0].Services) != 1 {
			return nil, fmt.Errorf("IngressRouteTCP %s: want one route with one service", name)
		}
		r := ir.Spec.Routes[0]
		router := &dynamic.TCPRouter{EntryPoints: ir.Spec.EntryPoints, Rule: r.Match, Priority: r.Priority,
			Service: clusterAddr(r.Services[0].Name, r.Services[0].Port.IntValue())}
		if irTLS := ir.Spec.TLS; irTLS != nil {
			router.TLS = &dynamic.RouterTCPTLSConfig{Passthrough: irTLS.Passthrough, CertResolver: irTLS.CertResolver}
		}
		conf.TCP.Routers[name] = router
	}
	return conf, nil
}

// middlewareFromCRD turns a Middleware spec into dynamic.Middleware through
// their shared JSON field names: each section is allocated, given its
// defaults (SetDefaults, as both providers do) and decoded strictly, so a
// CRD field that the file provider's type lacks is an error.
func middlewareFromCRD(spec traefikv1alpha1.MiddlewareSpec) (*dynamic.Middleware, error) {
	raw, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	var sections map[string]json.RawMessage
	if err := json.Unmarshal(raw, &sections); err != nil {
		return nil, err
	}
	out := &dynamic.Middleware{}
	v := reflect.ValueOf(out).Elem()
	for key, section := range sections {
		field, ok := fieldByJSONName(v, key)
		if !ok {
			return nil, fmt.Errorf("section %q has no file-provider equivalent", key)
		}
		// A pointer section is allocated and defaulted; a map (plugin) is decoded as it is.
		ptr := reflect.New(field.Type())
		if field.Kind() == reflect.Pointer {
			ptr.Elem().Set(reflect.New(field.Type().Elem()))
			if d, ok := ptr.Elem().Interface().(interface{ SetDefaults() }); ok {
				d.SetDefaults()
			}
		}
		if err := decodeStrictJSON(section, ptr.Interface()); err != nil {
			return nil, fmt.Errorf("section %q: %w", key, err)
		}
		field.Set(ptr.Elem())
	}
	return out, nil
}

// decodeStrictJSON decodes v's JSON (or raw JSON) into out; a field out
// lacks is an error.
func decodeStrictJSON(v, out any) error {
	raw, ok := v.(json.RawMessage)
	if !ok {
		var err error
		if raw, err = json.Marshal(v); err != nil {
			return err
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(out)
}

// fieldByJSONName finds the field of v tagged json:"name".
func fieldByJSONName(v reflect.Value, name string) (reflect.Value, bool) {
	for i := 0; i < v.NumField(); i++ {
		if strings.Split(v.Type().Field(i).Tag.Get("json"), ",")[0] == name {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}
