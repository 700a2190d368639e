package harness

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"
)

// Static is the part of Traefik's static configuration that plexgate's
// shipped file and the harness use, field names as Traefik spells them.
// It is strict both ways: ReadStatic rejects a key it does not declare, and
// a test in this package decodes what Marshal writes with Traefik's own
// static configuration types. A nil pointer or map is left out.
type Static struct {
	Global                *Global                    `yaml:"global,omitempty"`
	Log                   *Log                       `yaml:"log,omitempty"`
	AccessLog             *AccessLog                 `yaml:"accessLog,omitempty"`
	EntryPoints           map[string]*EntryPoint     `yaml:"entryPoints"`
	Ping                  *Ping                      `yaml:"ping,omitempty"`
	Metrics               *MetricsConfig             `yaml:"metrics,omitempty"`
	API                   *API                       `yaml:"api,omitempty"`
	CertificatesResolvers map[string]*ResolverConfig `yaml:"certificatesResolvers,omitempty"`
	Providers             *Providers                 `yaml:"providers,omitempty"`
	Experimental          *Experimental              `yaml:"experimental,omitempty"`
}

// Global is Traefik's global section.
type Global struct {
	CheckNewVersion    bool `yaml:"checkNewVersion"`
	SendAnonymousUsage bool `yaml:"sendAnonymousUsage"`
}

// Log is Traefik's own log.
type Log struct {
	Level string `yaml:"level,omitempty"`
}

// AccessLog is the access log; Fields says what it keeps.
type AccessLog struct {
	Format string `yaml:"format,omitempty"`
	Fields *struct {
		DefaultMode string            `yaml:"defaultMode,omitempty"`
		Names       map[string]string `yaml:"names,omitempty"`
		Headers     *struct {
			DefaultMode string `yaml:"defaultMode,omitempty"`
		} `yaml:"headers,omitempty"`
	} `yaml:"fields,omitempty"`
}

// EntryPoint is one entrypoint: its address, the addresses whose
// X-Forwarded-* it keeps (ForwardedHeaders; nil: none) and an optional
// redirection.
type EntryPoint struct {
	Address          string `yaml:"address"`
	ForwardedHeaders *struct {
		TrustedIPs []string `yaml:"trustedIPs"`
	} `yaml:"forwardedHeaders,omitempty"`
	HTTP *struct {
		Redirections *struct {
			EntryPoint *struct {
				To        string `yaml:"to"`
				Scheme    string `yaml:"scheme,omitempty"`
				Permanent bool   `yaml:"permanent,omitempty"`
			} `yaml:"entryPoint,omitempty"`
		} `yaml:"redirections,omitempty"`
	} `yaml:"http,omitempty"`
}

// Ping serves GET /ping on EntryPoint.
type Ping struct {
	EntryPoint string `yaml:"entryPoint"`
}

// MetricsConfig holds the Prometheus metrics.
type MetricsConfig struct {
	Prometheus *struct {
		EntryPoint           string `yaml:"entryPoint"`
		AddEntryPointsLabels bool   `yaml:"addEntryPointsLabels,omitempty"`
		AddRoutersLabels     bool   `yaml:"addRoutersLabels,omitempty"`
		AddServicesLabels    bool   `yaml:"addServicesLabels,omitempty"`
	} `yaml:"prometheus,omitempty"`
}

// API is Traefik's API; Debug adds /debug/pprof on the "traefik" entrypoint.
type API struct {
	Debug    bool `yaml:"debug,omitempty"`
	Insecure bool `yaml:"insecure,omitempty"`
}

// ResolverConfig is one certificate resolver.
type ResolverConfig struct {
	ACME *ACME `yaml:"acme"`
}

// ACME is an ACME resolver answering TLS-ALPN-01 challenges.
type ACME struct {
	Email        string    `yaml:"email"`
	Storage      string    `yaml:"storage"`
	CAServer     string    `yaml:"caServer"`
	TLSChallenge *struct{} `yaml:"tlsChallenge"`
}

// Providers are the configuration providers. ProvidersThrottleDuration is
// a duration string ("" is Traefik's 2s).
type Providers struct {
	ProvidersThrottleDuration string `yaml:"providersThrottleDuration,omitempty"`
	File                      *File  `yaml:"file,omitempty"`
	Docker                    *struct {
		ExposedByDefault bool `yaml:"exposedByDefault"`
	} `yaml:"docker,omitempty"`
}

// File is the file provider: a Directory or a single Filename.
type File struct {
	Directory string `yaml:"directory,omitempty"`
	Filename  string `yaml:"filename,omitempty"`
	Watch     bool   `yaml:"watch,omitempty"`
}

// Experimental declares the local plugins, by name.
type Experimental struct {
	LocalPlugins map[string]LocalPlugin `yaml:"localPlugins"`
}

// LocalPlugin is a plugin under plugins-local/src/<ModuleName>.
type LocalPlugin struct {
	ModuleName string `yaml:"moduleName"`
}

// ReadStatic decodes a static configuration file; a key Static does not
// declare is an error.
func ReadStatic(path string) (*Static, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var s Static
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("harness: %s: %w", path, err)
	}
	return &s, nil
}

// shippedStatic is the shipped static file that loads the plugin from
// plugins-local, relative to the repository root.
const shippedStatic = "static/traefik.yml"

// ShippedStatic is the shipped static file (shippedStatic), decoded by ReadStatic.
func ShippedStatic(paths Paths) (*Static, error) {
	return ReadStatic(filepath.Join(paths.Root, shippedStatic))
}

// Marshal is the configuration as YAML.
func (s *Static) Marshal() ([]byte, error) {
	out, err := yaml.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("harness: static config: %w", err)
	}
	return out, nil
}

// SetAddress points the named entrypoint at 127.0.0.1:port; an entrypoint
// the configuration lacks is an error.
func (s *Static) SetAddress(entrypoint string, port int) error {
	ep := s.EntryPoints[entrypoint]
	if ep == nil {
		return fmt.Errorf("harness: static config has no entrypoint %q", entrypoint)
	}
	ep.Address = fmt.Sprintf("127.0.0.1:%d", port)
	return nil
}

// PingURL is http://<the ping entrypoint's address>/ping.
func (s *Static) PingURL() (string, error) {
	if s.Ping == nil || s.EntryPoints[s.Ping.EntryPoint] == nil {
		return "", fmt.Errorf("harness: static config serves no /ping")
	}
	return "http://" + s.EntryPoints[s.Ping.EntryPoint].Address + "/ping", nil
}

// siteStatic is the shipped static configuration placed on loopback: the
// entrypoints on ports, ACME through caServer with its account and
// certificates in dir, and the file provider on dynamicDir.
func siteStatic(paths Paths, ports map[string]int, dir, caServer, dynamicDir string) (*Static, error) {
	s, err := ShippedStatic(paths)
	if err != nil {
		return nil, err
	}
	for name, port := range ports {
		if err := s.SetAddress(name, port); err != nil {
			return nil, err
		}
	}
	le := s.CertificatesResolvers["letsencrypt"]
	if le == nil || le.ACME == nil {
		return nil, fmt.Errorf("harness: static config has no ACME resolver letsencrypt")
	}
	le.ACME.Email, le.ACME.Storage, le.ACME.CAServer = "admin@"+Domain, filepath.Join(dir, "acme.json"), caServer
	if s.Providers == nil || s.Providers.File == nil || s.Providers.File.Directory == "" {
		return nil, fmt.Errorf("harness: static config has no file provider directory")
	}
	s.Providers.File.Directory = dynamicDir
	return s, nil
}
