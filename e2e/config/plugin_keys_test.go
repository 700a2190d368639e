package config

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"testing"
)

// pluginConfigFields returns the lower-cased field names of plugin.Config,
// read from the plugin's source (the plugin lives in the root module).
func pluginConfigFields(t *testing.T) map[string]bool {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), repoPath("plugin/config.go"), nil, 0)
	if err != nil {
		t.Fatalf("parsing plugin/config.go: %v", err)
	}
	fields := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		spec, ok := n.(*ast.TypeSpec)
		if !ok || spec.Name.Name != "Config" {
			return true
		}
		if st, ok := spec.Type.(*ast.StructType); ok {
			for _, field := range st.Fields.List {
				for _, name := range field.Names {
					fields[strings.ToLower(name.Name)] = true
				}
			}
		}
		return false
	})
	if len(fields) == 0 {
		t.Fatal("plugin/config.go has no Config struct fields")
	}
	return fields
}

// Traefik decodes plugin options by field name and silently ignores unknown
// ones, so a misspelt key would leave the plugin on a default.
func TestPluginOptionsNameFieldsOfThePluginConfig(t *testing.T) {
	fields := pluginConfigFields(t)
	conf := mustLoadDynamic(t, nil)
	mw, ok := conf.HTTP.Middlewares["plexgate"]
	if !ok || mw.Plugin["plexgate"] == nil {
		t.Fatal("dynamic/ has no middleware plexgate using plugin plexgate")
	}
	for key := range mw.Plugin["plexgate"] {
		if !fields[strings.ToLower(key)] {
			t.Errorf("plugin option %q is not a field of plugin.Config", key)
		}
	}
	for _, required := range []string{"validateurl"} {
		if _, ok := lowerKeys(mw.Plugin["plexgate"])[required]; !ok {
			t.Errorf("plugin option %s (required by the plugin) is not set", required)
		}
	}
}

func lowerKeys(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}
