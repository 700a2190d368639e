package harness

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/traefik/paerser/file"
	"github.com/traefik/traefik/v3/pkg/config/static"
)

// traefikDecode decodes YAML as `traefik --configFile` does.
func traefikDecode(t *testing.T, yml []byte) *static.Configuration {
	t.Helper()
	conf := &static.Configuration{}
	if err := file.DecodeContent(string(yml), ".yml", conf); err != nil {
		t.Fatalf("traefik cannot decode:\n%s\n%v", yml, err)
	}
	return conf
}

func testSiteStatic(t *testing.T) (*Static, Paths) {
	t.Helper()
	paths, err := FindPaths()
	if err != nil {
		t.Fatal(err)
	}
	ports := map[string]int{"web": 1001, "websecure": 1002, "plex": 1003, "metrics": 1004}
	s, err := siteStatic(paths, ports, "/run/traefik", "https://127.0.0.1:14000/dir", "/run/dynamic")
	if err != nil {
		t.Fatal(err)
	}
	return s, paths
}

func TestSiteStaticIsTheShippedFileWithOnlyTheSiteFieldsChanged(t *testing.T) {
	s, paths := testSiteStatic(t)
	yml, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got := traefikDecode(t, yml)
	acme := got.CertificatesResolvers["letsencrypt"].ACME
	tests := []struct {
		what string
		ok   bool
	}{
		{"websecure on 127.0.0.1:1002", got.EntryPoints["websecure"].Address == "127.0.0.1:1002"},
		{"plex on 127.0.0.1:1003", got.EntryPoints["plex"].Address == "127.0.0.1:1003"},
		{"ping on metrics, 127.0.0.1:1004", got.Ping.EntryPoint == "metrics" && got.EntryPoints["metrics"].Address == "127.0.0.1:1004"},
		{"ACME from the test CA into the work directory", acme.CAServer == "https://127.0.0.1:14000/dir" && acme.Storage == "/run/traefik/acme.json"},
		{"file provider on the given directory", got.Providers.File.Directory == "/run/dynamic"},
	}
	for _, tt := range tests {
		if !tt.ok {
			t.Errorf("written static config: want %s:\n%s", tt.what, yml)
		}
	}
	// Everything else is what Traefik reads from the shipped file: the
	// typed pass loses nothing (access log, redirection, plugin, …).
	want := &static.Configuration{}
	if err := file.Decode(filepath.Join(paths.Root, shippedStatic), want); err != nil {
		t.Fatal(err)
	}
	for name, ep := range want.EntryPoints {
		ep.Address = got.EntryPoints[name].Address
	}
	wantACME := want.CertificatesResolvers["letsencrypt"].ACME
	wantACME.CAServer, wantACME.Storage, wantACME.Email = acme.CAServer, acme.Storage, acme.Email
	want.Providers.File.Directory = got.Providers.File.Directory
	if !reflect.DeepEqual(got, want) {
		t.Errorf("written static config differs from %s beyond the site fields:\n%s", shippedStatic, yml)
	}
}

func TestReadStaticRejectsAKeyItDoesNotDeclare(t *testing.T) {
	paths, err := FindPaths()
	if err != nil {
		t.Fatal(err)
	}
	shipped, err := os.ReadFile(filepath.Join(paths.Root, shippedStatic))
	if err != nil {
		t.Fatal(err)
	}
	for _, extra := range []string{"tracing: {}\n", "serversTransport:\n  insecureSkipVerify: true\n"} {
		path := filepath.Join(t.TempDir(), "traefik.yml")
		os.WriteFile(path, append(shipped, "\n"+extra...), 0o644)
		key := strings.SplitN(extra, ":", 2)[0]
		if _, err := ReadStatic(path); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("with %q added: err = %v, want one naming %s", extra, err, key)
		}
	}
}

func TestSiteStaticWithoutAnEntrypointIsAnError(t *testing.T) {
	paths, err := FindPaths()
	if err != nil {
		t.Fatal(err)
	}
	_, err = siteStatic(paths, map[string]int{"websecure": 1, "plex-direct": 2}, "/run", "https://ca", "/dyn")
	if err == nil || !strings.Contains(err.Error(), `"plex-direct"`) {
		t.Fatalf("err = %v, want one naming the missing entrypoint", err)
	}
}

func TestPingURLIsOnThePingEntrypoint(t *testing.T) {
	s, _ := testSiteStatic(t)
	if got, err := s.PingURL(); err != nil || got != "http://127.0.0.1:1004/ping" {
		t.Fatalf("PingURL = %q, %v", got, err)
	}
	s.Ping = nil
	if _, err := s.PingURL(); err == nil {
		t.Fatal("PingURL without ping section: no error")
	}
}
