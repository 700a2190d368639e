package config

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// composeFile is the part of a Compose file these tests read.
type composeFile struct {
	Services map[string]composeService `yaml:"services"`
}

// composeService is the part of a Compose service these tests read. Labels
// and environment accept both of Compose's forms (mapping or "KEY=value" list).
type composeService struct {
	Command     []string    `yaml:"command"`
	WorkingDir  string      `yaml:"working_dir"`
	Volumes     []string    `yaml:"volumes"`
	Ports       []string    `yaml:"ports"`
	Environment composeDict `yaml:"environment"`
	Labels      composeDict `yaml:"labels"`
}

// composeDict is a Compose mapping that may also be written as a list of
// "KEY=value" strings.
type composeDict map[string]string

// UnmarshalYAML accepts a mapping or a list of "KEY=value" strings.
func (d *composeDict) UnmarshalYAML(node *yaml.Node) error {
	out := composeDict{}
	switch node.Kind {
	case yaml.MappingNode:
		var m map[string]string
		if err := node.Decode(&m); err != nil {
			return err
		}
		for k, v := range m {
			out[k] = v
		}
	case yaml.SequenceNode:
		var list []string
		if err := node.Decode(&list); err != nil {
			return err
		}
		for _, item := range list {
			k, v, _ := strings.Cut(item, "=")
			out[k] = v
		}
	default:
		return fmt.Errorf("compose: line %d: expected a mapping or a list", node.Line)
	}
	*d = out
	return nil
}

// loadCompose reads examples/docker-compose.yml and interpolates every
// command argument, environment value and label with env, as Compose does.
func loadCompose(t *testing.T, env map[string]string) composeFile {
	t.Helper()
	raw, err := os.ReadFile(repoPath("examples/docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var compose composeFile
	if err := yaml.Unmarshal(raw, &compose); err != nil {
		t.Fatalf("parsing examples/docker-compose.yml: %v", err)
	}
	for name, svc := range compose.Services {
		for i, arg := range svc.Command {
			svc.Command[i] = mustInterpolate(t, arg, env)
		}
		for _, dict := range []composeDict{svc.Environment, svc.Labels} {
			for k, v := range dict {
				dict[k] = mustInterpolate(t, v, env)
			}
		}
		compose.Services[name] = svc
	}
	return compose
}

func mustInterpolate(t *testing.T, s string, env map[string]string) string {
	t.Helper()
	out, err := interpolate(s, env)
	if err != nil {
		t.Fatalf("compose interpolation of %q: %v", s, err)
	}
	return out
}

// interpolate expands Compose variables in s: $$ is a literal $, and
// ${NAME}, $NAME, ${NAME:-default}, ${NAME-default}, ${NAME:?message} and
// ${NAME?message} behave as in the Compose specification, with nested
// expressions allowed in defaults. Unset names expand to "".
func interpolate(s string, env map[string]string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 >= len(s) {
			return "", fmt.Errorf("compose: lone $ at the end of %q", s)
		}
		switch next := s[i+1]; {
		case next == '$':
			b.WriteByte('$')
			i++
		case next == '{':
			end := matchingBrace(s, i+1)
			if end < 0 {
				return "", fmt.Errorf("compose: unclosed ${ in %q", s)
			}
			value, err := expand(s[i+2:end], env)
			if err != nil {
				return "", err
			}
			b.WriteString(value)
			i = end
		case isNameByte(next):
			j := i + 1
			for j < len(s) && isNameByte(s[j]) {
				j++
			}
			b.WriteString(env[s[i+1:j]])
			i = j - 1
		default:
			return "", fmt.Errorf("compose: invalid interpolation %q in %q (write $$ for a literal $)", s[i:i+2], s)
		}
	}
	return b.String(), nil
}

// expand evaluates the inside of one ${...} expression.
func expand(expr string, env map[string]string) (string, error) {
	name := expr
	for i := 0; i < len(expr); i++ {
		if !isNameByte(expr[i]) {
			name = expr[:i]
			break
		}
	}
	if name == "" {
		return "", fmt.Errorf("compose: invalid variable name in ${%s}", expr)
	}
	value, set := env[name]
	op, arg := expr[len(name):], ""
	for _, o := range []string{":-", ":?", "-", "?"} {
		if strings.HasPrefix(op, o) {
			op, arg = o, op[len(o):]
			break
		}
	}
	empty := !set || (strings.HasPrefix(op, ":") && value == "")
	switch {
	case op == "":
		return value, nil
	case (op == ":-" || op == "-") && empty:
		return interpolate(arg, env)
	case (op == ":?" || op == "?") && empty:
		return "", fmt.Errorf("compose: required variable %s is missing: %s", name, arg)
	case op == ":-" || op == "-" || op == ":?" || op == "?":
		return value, nil
	default:
		return "", fmt.Errorf("compose: unsupported expression ${%s}", expr)
	}
}

// matchingBrace returns the index of the } closing the { at open, or -1.
func matchingBrace(s string, open int) int {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

func isNameByte(c byte) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

func TestComposeInterpolationFollowsTheComposeSpecification(t *testing.T) {
	env := map[string]string{"SET": "value", "EMPTY": ""}
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{in: "plain", want: "plain"},
		{in: "$$ and $${SET}", want: "$ and ${SET}"},
		{in: "${SET}/$SET", want: "value/value"},
		{in: "${UNSET:-fallback}", want: "fallback"},
		{in: "${EMPTY:-fallback}", want: "fallback"},
		{in: "${EMPTY-fallback}", want: ""},
		{in: "${UNSET-fallback}", want: "fallback"},
		{in: "${UNSET:-https://${SET:-x}}", want: "https://value"},
		{in: "${UNSET:-https://${ALSO_UNSET:-x}}", want: "https://x"},
		{in: "${UNSET:?needed}", wantErr: true},
		{in: "${SET:?needed}", want: "value"},
		{in: "regexp$`", wantErr: true},
		{in: "${SET", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := interpolate(tt.in, env)
			if (err != nil) != tt.wantErr {
				t.Fatalf("interpolate(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("interpolate(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// Let's Encrypt refuses example.com addresses: the compose file must make
// the user give one instead of falling back to a placeholder.
func TestComposeRequiresTheACMEEmail(t *testing.T) {
	raw, err := os.ReadFile(repoPath("examples/docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var compose composeFile
	if err := yaml.Unmarshal(raw, &compose); err != nil {
		t.Fatal(err)
	}
	env := composeEnv(nil)
	delete(env, "PLEXGATE_ACME_EMAIL")
	var failed error
	for _, arg := range compose.Services["traefik"].Command {
		if _, err := interpolate(arg, env); err != nil {
			failed = err
		}
	}
	if failed == nil || !strings.Contains(failed.Error(), "PLEXGATE_ACME_EMAIL") {
		t.Errorf("compose without PLEXGATE_ACME_EMAIL: error = %v, want one naming PLEXGATE_ACME_EMAIL", failed)
	}
	if strings.Contains(string(raw), "acme.email=admin@example.com") {
		t.Error("examples/docker-compose.yml still sets the ACME e-mail to admin@example.com")
	}
}

// The local-plugin loader reads ./plugins-local/src/<module>/ relative to
// Traefik's working directory: the compose file must mount exactly the
// files the loader needs there, from paths that exist in this repository.
func TestComposeMountsThePluginWhereTraefikLooksForIt(t *testing.T) {
	svc := loadCompose(t, composeEnv(nil)).Services["traefik"]
	if svc.WorkingDir != "/" {
		t.Errorf("traefik working_dir = %q, want /", svc.WorkingDir)
	}
	mounts := map[string]string{}
	for _, v := range svc.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 {
			mounts[parts[1]] = parts[0]
		}
	}
	base := "/plugins-local/src/" + pluginModule + "/"
	for _, name := range []string{".traefik.yml", "go.mod", "plugin"} {
		src, ok := mounts[base+name]
		if !ok {
			t.Errorf("traefik does not mount %s", base+name)
			continue
		}
		if _, err := os.Stat(repoPath(strings.TrimPrefix(src, "../"))); err != nil || !strings.HasPrefix(src, "../") {
			t.Errorf("mount %s → %s: the source is not a path of this repository (%v)", src, base+name, err)
		}
	}
	for target, src := range mounts {
		if src == ".." || src == "../" {
			t.Errorf("traefik mounts the whole checkout at %s (it would see ./secrets)", target)
		}
	}
}
