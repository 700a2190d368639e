package config

import (
	"context"
	"strings"
	"testing"

	"github.com/traefik/traefik/v3/pkg/config/dynamic"
	fileprovider "github.com/traefik/traefik/v3/pkg/provider/file"
)

// referencedTLSOptions returns the TLS options named by the routers of conf,
// without their "@file" provider suffix.
func referencedTLSOptions(conf *dynamic.Configuration) map[string]string {
	refs := map[string]string{}
	for name, r := range conf.HTTP.Routers {
		if r.TLS != nil && r.TLS.Options != "" {
			refs["HTTP router "+name] = r.TLS.Options
		}
	}
	for name, r := range conf.TCP.Routers {
		if r.TLS != nil && r.TLS.Options != "" {
			refs["TCP router "+name] = r.TLS.Options
		}
	}
	return refs
}

// The compose setup loads dynamic/tls.yml alone, so every TLS option a
// router refers to must be defined there, under the file provider.
func TestTLSOptionsReferencedByRoutersAreDefinedInTLSFile(t *testing.T) {
	provider := &fileprovider.Provider{}
	tlsConf, err := provider.CreateConfiguration(context.Background(), repoPath("dynamic/tls.yml"), nil, false)
	if err != nil {
		t.Fatalf("loading dynamic/tls.yml alone: %v", err)
	}
	labelConf, err := labelConfiguration(loadCompose(t, composeEnv(nil)))
	if err != nil {
		t.Fatal(err)
	}
	sources := map[string]*dynamic.Configuration{"dynamic/": mustLoadDynamic(t, nil), "compose labels": labelConf}
	for source, conf := range sources {
		for router, ref := range referencedTLSOptions(conf) {
			name, found := strings.CutSuffix(ref, "@file")
			if !found {
				t.Errorf("%s: %s uses TLS options %q; write %q, which resolves from the file and the docker provider alike", source, router, ref, ref+"@file")
			}
			if _, ok := tlsConf.TLS.Options[name]; !ok {
				t.Errorf("%s: %s uses TLS options %q, which dynamic/tls.yml does not define", source, router, ref)
			}
		}
	}
	if opts, ok := tlsConf.TLS.Options["plex-http1"]; !ok || strings.Join(opts.ALPNProtocols, ",") != "http/1.1" {
		t.Errorf("dynamic/tls.yml: options plex-http1 = %+v, want ALPN http/1.1 only (Plex behind a TLS-terminating TCP router speaks HTTP/1.1)", opts)
	}
}
