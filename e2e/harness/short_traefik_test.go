package harness

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDropCertResolverKeepsTLSRouters(t *testing.T) {
	for _, name := range []string{"plex.yml", "auth.yml", "tcp.yml"} {
		data, err := os.ReadFile(filepath.Join("..", "..", "dynamic", name))
		if err != nil {
			t.Fatal(err)
		}
		got := dropCertResolver(string(data))
		if strings.Count(got, "tls:") != strings.Count(string(data), "tls:") {
			t.Errorf("%s: a tls section was lost", name)
		}
		for _, l := range strings.Split(got, "\n") {
			if strings.TrimSpace(l) == "certResolver: letsencrypt" {
				t.Errorf("%s: resolver left", name)
			}
			if strings.TrimSpace(l) == "tls:" && name != "tcp.yml" {
				t.Errorf("%s: empty tls section left as null:\n%s", name, got)
			}
		}
	}
}
