package harness

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"go.yaml.in/yaml/v3"
)

// Health checking of the forwardauth replicas by the replicas' Traefiks.
const (
	replicaHealthInterval = "250ms"
	replicaHealthTimeout  = "1s"
	replicaFailureWindow  = "10s"
)

// Replicas is plexgate scaled out next to a stack: two forwardauth
// replicas sharing one signing key, behind the load balancer of each of two
// Traefik instances with the plugin. Each Traefik balances over both
// replicas (health checked on /readyz) on an internal entrypoint, which
// the plugin (ValidateURL, JWKSURL) and the auth host's router use. The
// replicas have their own OpenID provider, whose client's redirect URI is
// the first Traefik's auth host; both Traefiks serve the stack's ACME
// certificates (a copy of its acme.json).
type Replicas struct {
	// Forwardauth are the two replicas.
	Forwardauth [2]*Forwardauth
	// Traefik are the two Traefik instances.
	Traefik [2]*ReplicaTraefik
	// Provider is the replicas' OpenID provider.
	Provider *Provider
	// Key is the signing key the replicas started with.
	Key string
}

// ReplicaTraefik is one of the replicas' Traefik instances.
type ReplicaTraefik struct {
	*Traefik
	// WebsecurePort and MetricsPort are its websecure and metrics entrypoints.
	WebsecurePort, MetricsPort int
}

// URL is https://host:<its websecure port>path.
func (t *ReplicaTraefik) URL(host, path string) string {
	return "https://" + host + ":" + strconv.Itoa(t.WebsecurePort) + path
}

// Metrics scrapes its Prometheus endpoint.
func (t *ReplicaTraefik) Metrics(ctx context.Context) (Metrics, error) {
	return ReadMetrics(ctx, "http://127.0.0.1:"+strconv.Itoa(t.MetricsPort)+"/metrics")
}

// Metrics scrapes the replica's own /metrics.
func (f *Forwardauth) Metrics(ctx context.Context) (Metrics, error) {
	return ReadMetrics(ctx, f.URL+"/metrics")
}

// StartReplicas starts the provider, the two forwardauth replicas and the
// two Traefiks; it stops whatever started when one fails.
func (s *Stack) StartReplicas(ctx context.Context) (r *Replicas, err error) {
	dir := filepath.Join(s.RunDir, "replicas")
	r = &Replicas{}
	defer func() {
		if err != nil {
			r.Stop()
		}
	}()
	var ports [2]struct{ web, websecure, plex, metrics, internal, forwardauth int }
	var providerPort int
	for i := range ports {
		p := &ports[i]
		if err := freePorts(&p.web, &p.websecure, &p.plex, &p.metrics, &p.internal, &p.forwardauth); err != nil {
			return nil, err
		}
	}
	if err := freePorts(&providerPort); err != nil {
		return nil, err
	}
	publicURL := "https://" + AuthHost + ":" + strconv.Itoa(ports[0].websecure)
	client := OIDCClient{ID: "plexgate-replicas", Secret: randomSecret(), RedirectURIs: []string{publicURL + "/auth"},
		PostLogoutRedirectURIs: []string{publicURL + "/signed-out"}}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	if r.Provider, err = StartProvider(ctx, s.Paths, dir, providerPort, client, []User{Alice, Mallory, Bob}); err != nil {
		return nil, err
	}
	for i := range r.Forwardauth {
		faDir := filepath.Join(dir, "forwardauth-"+strconv.Itoa(i))
		if err := os.MkdirAll(faDir, 0o755); err != nil {
			return nil, fmt.Errorf("harness: %w", err)
		}
		r.Forwardauth[i], err = StartForwardauth(ctx, s.Forwardauth.binary, faDir, ForwardauthConfig{
			Port: ports[i].forwardauth, PublicURL: publicURL, CookieDomain: Domain, Issuer: r.Provider.Issuer, Client: client})
		if err != nil {
			return nil, err
		}
	}
	// Both replicas sign with the first one's key.
	r.Key = filepath.Join(dir, "forwardauth-0", "session.pem")
	if err := r.Forwardauth[1].RestartWithKeys(ctx, r.Key, nil); err != nil {
		return nil, err
	}
	for i := range r.Traefik {
		p := ports[i]
		spec := replicaTraefikSpec{name: "traefik-" + strconv.Itoa(i), dir: dir, internal: p.internal, publicURL: publicURL,
			ports: map[string]int{"web": p.web, "websecure": p.websecure, "plex": p.plex, "metrics": p.metrics}}
		t, err := s.startReplicaTraefik(ctx, spec, r.Forwardauth)
		if err != nil {
			return nil, err
		}
		r.Traefik[i] = &ReplicaTraefik{Traefik: t, WebsecurePort: p.websecure, MetricsPort: p.metrics}
	}
	return r, nil
}

// replicaTraefikSpec places one of the replicas' Traefiks.
type replicaTraefikSpec struct {
	name, dir, publicURL string
	internal             int
	ports                map[string]int
}

// startReplicaTraefik starts a Traefik with the shipped static and dynamic
// configuration, plus the internal entrypoint and replicas.yml.
func (s *Stack) startReplicaTraefik(ctx context.Context, spec replicaTraefikSpec, fa [2]*Forwardauth) (*Traefik, error) {
	tdir := filepath.Join(spec.dir, spec.name)
	dyn := filepath.Join(tdir, "dynamic")
	if err := copyDir(filepath.Join(s.Paths.Root, "dynamic"), dyn); err != nil {
		return nil, err
	}
	if err := writeReplicasDynamic(filepath.Join(dyn, "replicas.yml"), fa); err != nil {
		return nil, err
	}
	acme, err := os.ReadFile(filepath.Join(s.Traefik.Dir, "acme.json"))
	if err != nil {
		return nil, fmt.Errorf("harness: the stack's certificates: %w", err)
	}
	if err := os.WriteFile(filepath.Join(tdir, "acme.json"), acme, 0o600); err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	static, err := siteStatic(s.Paths, spec.ports, tdir, s.Pebble.DirectoryURL, dyn)
	if err != nil {
		return nil, err
	}
	// The internal entrypoint keeps the X-Forwarded-* that this Traefik's
	// plugin and routers set: only this process reaches it, on loopback.
	internal := &EntryPoint{Address: "127.0.0.1:" + strconv.Itoa(spec.internal)}
	internal.ForwardedHeaders = &struct {
		TrustedIPs []string `yaml:"trustedIPs"`
	}{TrustedIPs: []string{"127.0.0.1/32"}}
	static.EntryPoints["internal"] = internal
	env := s.traefikEnv()
	internalURL := "http://127.0.0.1:" + strconv.Itoa(spec.internal)
	env["PLEXGATE_FORWARDAUTH_URL"], env["PLEXGATE_PUBLIC_URL"] = internalURL, spec.publicURL
	return StartTraefik(ctx, s.Paths, TraefikSpec{Name: spec.name, RunDir: spec.dir, Static: static, Env: env})
}

// replicasDynamic is the file that puts the replicas behind the internal
// entrypoint: a router to a load balancer over both, health checked
// actively (/readyz) and passively (a replica that fails one request is out
// for the failure window, until the active check finds it ready again).
type replicasDynamic struct {
	HTTP struct {
		Routers  map[string]dynRouter  `yaml:"routers"`
		Services map[string]dynService `yaml:"services"`
	} `yaml:"http"`
}

type dynRouter struct {
	EntryPoints []string `yaml:"entryPoints"`
	Rule        string   `yaml:"rule"`
	Service     string   `yaml:"service"`
}

type dynService struct {
	LoadBalancer struct {
		Servers []struct {
			URL string `yaml:"url"`
		} `yaml:"servers"`
		HealthCheck struct {
			Path     string `yaml:"path"`
			Interval string `yaml:"interval"`
			Timeout  string `yaml:"timeout"`
		} `yaml:"healthCheck"`
		PassiveHealthCheck struct {
			FailureWindow     string `yaml:"failureWindow"`
			MaxFailedAttempts int    `yaml:"maxFailedAttempts"`
		} `yaml:"passiveHealthCheck"`
	} `yaml:"loadBalancer"`
}

func writeReplicasDynamic(path string, fa [2]*Forwardauth) error {
	var d replicasDynamic
	d.HTTP.Routers = map[string]dynRouter{"forwardauth-internal": {EntryPoints: []string{"internal"},
		Rule: "PathPrefix(`/`)", Service: "forwardauth-replicas"}}
	var svc dynService
	for _, f := range fa {
		svc.LoadBalancer.Servers = append(svc.LoadBalancer.Servers, struct {
			URL string `yaml:"url"`
		}{f.URL})
	}
	hc := &svc.LoadBalancer.HealthCheck
	hc.Path, hc.Interval, hc.Timeout = "/readyz", replicaHealthInterval, replicaHealthTimeout
	passive := &svc.LoadBalancer.PassiveHealthCheck
	passive.FailureWindow, passive.MaxFailedAttempts = replicaFailureWindow, 1
	d.HTTP.Services = map[string]dynService{"forwardauth-replicas": svc}
	out, err := yaml.Marshal(&d)
	if err != nil {
		return fmt.Errorf("harness: replicas dynamic config: %w", err)
	}
	return os.WriteFile(path, out, 0o644)
}

// Stop stops everything StartReplicas started.
func (r *Replicas) Stop() {
	for _, t := range r.Traefik {
		if t != nil {
			t.Stop()
		}
	}
	for _, f := range r.Forwardauth {
		if f != nil && f.proc != nil {
			f.Stop()
		}
	}
	if r.Provider != nil {
		r.Provider.Stop()
	}
}

// RestartWithKeys rewrites f's config to sign with signing and also
// accept verification, then restarts it.
func (f *Forwardauth) RestartWithKeys(ctx context.Context, signing string, verification []string) error {
	if err := f.setKeys(signing, verification); err != nil {
		return err
	}
	f.Stop()
	return f.Start(ctx)
}

// Kill ends the process with SIGKILL, as a crash would: no graceful shutdown.
func (f *Forwardauth) Kill() {
	_ = syscall.Kill(-f.proc.cmd.Process.Pid, syscall.SIGKILL)
	f.proc.Stop()
}
