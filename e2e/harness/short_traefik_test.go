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
		lines := strings.Split(got, "\n")
		indent := func(l string) int { return len(l) - len(strings.TrimLeft(l, " ")) }
		for i, l := range lines {
			if strings.TrimSpace(l) == "certResolver: letsencrypt" {
				t.Errorf("%s: resolver left", name)
			}
			if strings.TrimSpace(l) == "tls:" && (i+1 == len(lines) || indent(lines[i+1]) <= indent(l)) {
				t.Errorf("%s:%d: empty tls section left as null", name, i+1)
			}
		}
	}
}
