package harness

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// StartTraefikWithPluginOptions starts a ReloadTraefik named name whose copy
// of dynamic/plex.yml gives the plexgate plugin these extra options (they
// replace the shipped CacheTTL line), so that a test can run the plugin with
// short cache and key lifetimes. Its routers order no ACME certificate (they
// serve Traefik's default one): a failed order changes the configuration,
// and every change rebuilds the plugin with an empty cache and no fetched
// keys, which would hide what a test looks at; for the same reason it has no
// Docker provider. It is stopped when the stack stops, or by the caller.
func (s *Stack) StartTraefikWithPluginOptions(ctx context.Context, name string, options map[string]string) (*ReloadTraefik, error) {
	const anchor = "          CacheTTL: 5m\n"
	var lines strings.Builder
	for k, v := range options {
		fmt.Fprintf(&lines, "          %s: %q\n", k, v)
	}
	if _, ok := options["CacheTTL"]; !ok {
		lines.WriteString(anchor)
	}
	return s.StartTraefikWithPlexYML(ctx, name, func(yml string) (string, error) {
		if !strings.Contains(yml, anchor) {
			return "", fmt.Errorf("harness: dynamic/plex.yml has no %q line to replace", strings.TrimSpace(anchor))
		}
		return strings.Replace(yml, anchor, lines.String(), 1), nil
	})
}

// StartTraefikWithPlexYML is StartTraefikWithPluginOptions with any edit of
// the copy of dynamic/plex.yml.
func (s *Stack) StartTraefikWithPlexYML(ctx context.Context, name string, edit func(yml string) (string, error)) (*ReloadTraefik, error) {
	dir := filepath.Join(s.RunDir, name)
	dyn := filepath.Join(dir, "dynamic")
	if err := copyDir(filepath.Join(s.Paths.Root, "dynamic"), dyn); err != nil {
		return nil, err
	}
	if err := noACME(dyn); err != nil {
		return nil, err
	}
	plexYML := filepath.Join(dyn, "plex.yml")
	data, err := os.ReadFile(plexYML)
	if err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	yml, err := edit(string(data))
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(plexYML, []byte(yml), 0o644); err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	// No Docker provider: its retries are configuration events too.
	t, err := s.startOwnDynamic(ctx, name, dir, dyn, func(static *Static) { static.Providers.Docker = nil })
	if err != nil {
		return nil, err
	}
	s.stops = append(s.stops, t.Stop)
	return t, nil
}

// noACME removes the ACME resolver from the routers of the dynamic files in
// dir, so that they serve the default certificate.
func noACME(dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.yml"))
	if err != nil {
		return fmt.Errorf("harness: %w", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("harness: %w", err)
		}
		data = []byte(dropCertResolver(string(data)))
		if err := os.WriteFile(f, data, 0o644); err != nil {
			return fmt.Errorf("harness: %w", err)
		}
	}
	return nil
}

// dropCertResolver removes the "certResolver: letsencrypt" lines of a
// dynamic file; a "tls:" left empty becomes "tls: {}" (TLS, default
// certificate).
func dropCertResolver(yml string) string {
	lines := strings.Split(yml, "\n")
	var out []string
	for _, l := range lines {
		if strings.TrimSpace(l) != "certResolver: letsencrypt" {
			out = append(out, l)
		}
	}
	for i, l := range out {
		if strings.TrimSpace(l) != "tls:" {
			continue
		}
		indent := len(l) - len(strings.TrimLeft(l, " "))
		next := ""
		if i+1 < len(out) {
			next = out[i+1]
		}
		if len(next)-len(strings.TrimLeft(next, " ")) <= indent || strings.TrimSpace(next) == "" {
			out[i] = l + " {}"
		}
	}
	return strings.Join(out, "\n")
}
