package config

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/traefik/paerser/file"
	"github.com/traefik/paerser/flag"
	"github.com/traefik/traefik/v3/pkg/config/dynamic"
	"github.com/traefik/traefik/v3/pkg/config/static"
	"go.yaml.in/yaml/v3"
)

// snippet is a fenced code block of a documentation file and the kind its
// marker comment (<!-- snippet: KIND ... -->, on the line before) gives it.
type snippet struct {
	file string
	line int
	lang string
	kind string
	body string
}

func (s snippet) String() string { return fmt.Sprintf("%s:%d (%s)", s.file, s.line, s.kind) }

var snippetMarker = regexp.MustCompile(`^<!--\s*snippet:\s*([a-z-]+)\b.*-->$`)

// snippetKinds are the markers the documentation may use; see CONTRIBUTING.md.
var snippetKinds = []string{
	"forwardauth", "forwardauth-fragment", "traefik-dynamic", "traefik-static",
	"compose-fragment", "none", "quickstart", "shell", "verify",
}

// docFiles are the user documentation: README.md and docs/*.md.
func docFiles(t *testing.T) []string {
	t.Helper()
	docs, err := filepath.Glob(repoPath("docs/*.md"))
	if err != nil || len(docs) == 0 {
		t.Fatalf("no docs/*.md (err %v)", err)
	}
	out := []string{"README.md"}
	for _, d := range docs {
		out = append(out, "docs/"+filepath.Base(d))
	}
	return out
}

// parseSnippets returns the fenced blocks of a Markdown text. A block may be
// indented (inside a list); its lines lose that indentation.
func parseSnippets(name, text string) []snippet {
	var out []snippet
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		trimmed := strings.TrimSpace(lines[i])
		if !strings.HasPrefix(trimmed, "```") {
			continue
		}
		indent := len(lines[i]) - len(strings.TrimLeft(lines[i], " "))
		s := snippet{file: name, line: i + 1, lang: strings.TrimPrefix(trimmed, "```")}
		for j := i - 1; j >= 0; j-- {
			prev := strings.TrimSpace(lines[j])
			if prev == "" {
				continue
			}
			if m := snippetMarker.FindStringSubmatch(prev); m != nil {
				s.kind = m[1]
			}
			break
		}
		var body []string
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			line := lines[i]
			if len(line) >= indent && strings.TrimSpace(line[:indent]) == "" {
				line = line[indent:]
			}
			body = append(body, line)
		}
		s.body = strings.Join(body, "\n") + "\n"
		out = append(out, s)
	}
	return out
}

func allSnippets(t *testing.T) []snippet {
	t.Helper()
	var out []snippet
	for _, name := range docFiles(t) {
		out = append(out, parseSnippets(name, readDoc(t, name))...)
	}
	return out
}

func TestSnippetParserReadsMarkersAndIndentedBlocks(t *testing.T) {
	text := "intro\n\n<!-- snippet: forwardauth-fragment -->\n```yaml\na: 1\n```\n\n1. step\n\n   <!-- snippet: none (rules) -->\n   ```yaml\n   b:\n     c: 2\n   ```\n```sh\nls\n```\n"
	got := parseSnippets("x.md", text)
	want := []snippet{
		{file: "x.md", line: 4, lang: "yaml", kind: "forwardauth-fragment", body: "a: 1\n"},
		{file: "x.md", line: 11, lang: "yaml", kind: "none", body: "b:\n  c: 2\n"},
		{file: "x.md", line: 15, lang: "sh", kind: "", body: "ls\n"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("parseSnippets =\n %+v\nwant\n %+v", got, want)
	}
}

// Every YAML block in the documentation says what it is, so that the tests
// know how to check it, and every marker is one the tests know.
func TestEveryYAMLSnippetIsMarked(t *testing.T) {
	for _, s := range allSnippets(t) {
		if s.lang == "yaml" && s.kind == "" {
			t.Errorf("%s: a yaml block without a <!-- snippet: KIND --> marker on the line before", s)
		}
		if s.kind != "" && !slices.Contains(snippetKinds, s.kind) {
			t.Errorf("%s: unknown snippet kind %q (known: %s)", s, s.kind, strings.Join(snippetKinds, ", "))
		}
	}
}

// The configuration shown in the README and docs/ is accepted by the
// program that will read it: forwardauth -check, or Traefik's decoders.
func TestDocumentedConfigurationSnippetsAreAccepted(t *testing.T) {
	checked := 0
	for _, s := range allSnippets(t) {
		if s.lang != "yaml" {
			continue
		}
		t.Run(fmt.Sprintf("%s:%d", s.file, s.line), func(t *testing.T) {
			if err := checkSnippet(t, s); err != nil {
				t.Errorf("%s: %v\n%s", s, err, s.body)
			}
		})
		checked++
	}
	if checked < 5 {
		t.Errorf("only %d yaml snippets found in the documentation; the parser or the docs changed", checked)
	}
}

func checkSnippet(t *testing.T, s snippet) error {
	switch s.kind {
	case "forwardauth":
		_, err := checkForwardauthYAML(t, []byte(s.body))
		return err
	case "forwardauth-fragment":
		merged, err := withExampleConfig(t, []byte(s.body))
		if err != nil {
			return err
		}
		_, err = checkForwardauthYAML(t, merged)
		return err
	case "traefik-dynamic":
		return checkDynamicSnippet(t, s.body)
	case "traefik-static":
		return file.DecodeContent(s.body, ".yml", &static.Configuration{})
	case "compose-fragment":
		return checkComposeFragment(t, s.body)
	case "none":
		var v any
		return yaml.Unmarshal([]byte(s.body), &v)
	}
	return fmt.Errorf("kind %q is not a YAML kind", s.kind)
}

// checkDynamicSnippet decodes a dynamic configuration as the file provider
// does, and checks the plugin options against the plugin's Config.
func checkDynamicSnippet(t *testing.T, body string) error {
	conf := &dynamic.Configuration{}
	if err := file.DecodeContent(body, ".yml", conf); err != nil {
		return err
	}
	fields := pluginConfigFields(t)
	if conf.HTTP == nil {
		return nil
	}
	for name, mw := range conf.HTTP.Middlewares {
		for key := range mw.Plugin["plexgate"] {
			if !fields[strings.ToLower(key)] {
				return fmt.Errorf("middleware %s: plugin option %q is not a field of plugin.Config", name, key)
			}
		}
	}
	return nil
}

// checkComposeFragment checks a piece of docker-compose.yml: its services
// exist in examples/docker-compose.yml, Traefik's flags decode, and
// forwardauth's PLEXGATE_* variables name configuration keys.
func checkComposeFragment(t *testing.T, body string) error {
	var frag struct {
		Services map[string]composeService `yaml:"services"`
		Secrets  map[string]any            `yaml:"secrets"`
	}
	if err := yaml.Unmarshal([]byte(body), &frag); err != nil {
		return err
	}
	shipped := loadCompose(t, composeEnv(nil))
	for name, svc := range frag.Services {
		if _, ok := shipped.Services[name]; !ok {
			return fmt.Errorf("service %s is not in examples/docker-compose.yml", name)
		}
		if name == "traefik" && len(svc.Command) > 0 {
			if err := flag.Decode(svc.Command, &static.Configuration{}); err != nil {
				return fmt.Errorf("traefik command: %w", err)
			}
		}
		if name == "forwardauth" {
			keys := forwardauthFlags(t)
			for env := range svc.Environment {
				if !envNamesKey(env, keys) {
					return fmt.Errorf("forwardauth environment %s names no configuration key", env)
				}
			}
		}
	}
	return nil
}

// envNamesKey reports whether env is PLEXGATE_<KEY> for one of the keys, or
// PLEXGATE_CONFIG.
func envNamesKey(env string, keys map[string]bool) bool {
	if env == "PLEXGATE_CONFIG" {
		return true
	}
	for k := range keys {
		if env == "PLEXGATE_"+strings.ToUpper(strings.ReplaceAll(k, ".", "_")) {
			return true
		}
	}
	return false
}

// The Traefik and compose snippet checks must be able to fail.
func TestSnippetChecksRejectUnknownKeys(t *testing.T) {
	tests := []struct {
		name string
		s    snippet
	}{
		{"dynamic: unknown router key", snippet{kind: "traefik-dynamic", body: "http:\n  routers:\n    plex:\n      rulez: Host(`a`)\n"}},
		{"dynamic: unknown plugin option", snippet{kind: "traefik-dynamic", body: "http:\n  middlewares:\n    m:\n      plugin:\n        plexgate:\n          ValidateURI: http://x/validate\n"}},
		{"static: unknown key", snippet{kind: "traefik-static", body: "entryPoints:\n  web:\n    adress: \":80\"\n"}},
		{"compose: unknown service", snippet{kind: "compose-fragment", body: "services:\n  nginx:\n    image: nginx\n"}},
		{"compose: unknown traefik flag", snippet{kind: "compose-fragment", body: "services:\n  traefik:\n    command:\n      - --experimental.plugin.plexgate.moduleName=x\n"}},
		{"compose: unknown forwardauth variable", snippet{kind: "compose-fragment", body: "services:\n  forwardauth:\n    environment:\n      PLEXGATE_SESSION_MAXAGE: 1h\n"}},
		{"unknown kind", snippet{kind: "nginx", body: "a: 1\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := checkSnippet(t, tt.s); err == nil {
				t.Errorf("checkSnippet accepted:\n%s", tt.s.body)
			}
		})
	}
}
