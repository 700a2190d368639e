package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// FuzzLoadConfig feeds arbitrary YAML and one arbitrary environment value
// to the loader and the check: neither panics, every problem of the loader
// starts with a config path and names no Go type, and Check has no side
// effects (twice gives the same answer and leaves the config as it was).
func FuzzLoadConfig(f *testing.F) {
	example, err := os.ReadFile(filepath.Join("..", "..", "examples", "forwardauth.yml"))
	if err == nil {
		f.Add(example, uint8(0), "x")
	}
	f.Add([]byte("public_url: https://auth.example.com\nsession:\n  max_age: 12h\n"), uint8(3), "1h")
	f.Add([]byte("authz:\n  emails: [a@example.com]\nheaders:\n  claims: {locale: X-Locale}\n"), uint8(7), "a=b,c")
	f.Add([]byte("session: [1, 2]\n"), uint8(200), "true")
	f.Add([]byte("unknown_key: 1\n"), uint8(1), "")
	paths := func() []string {
		cfg := Default()
		var out []string
		for _, fl := range fields(&cfg) {
			out = append(out, envName(fl.path))
		}
		return out
	}()
	file := filepath.Join(f.TempDir(), "c.yml")
	f.Fuzz(func(t *testing.T, yaml []byte, which uint8, value string) {
		// One file per worker process: a fuzz worker runs inputs one at a time.
		if err := os.WriteFile(file, yaml, 0o600); err != nil {
			t.Fatal(err)
		}
		name := paths[int(which)%len(paths)]
		env := func(k string) (string, bool) { return value, k == name }
		cfg, err := Load(file, env, nil)
		var ce *Error
		if errors.As(err, &ce) {
			for _, p := range ce.Problems {
				if !wellFormedProblem(p) {
					t.Fatalf("problem %q does not start with a config path, or speaks Go", p)
				}
			}
		}
		if err != nil {
			return
		}
		before := reflect.ValueOf(cfg).Interface()
		err1, err2 := cfg.Check(), cfg.Check()
		if (err1 == nil) != (err2 == nil) || (err1 != nil && err1.Error() != err2.Error()) {
			t.Fatalf("Check is not deterministic: %v / %v", err1, err2)
		}
		if !reflect.DeepEqual(before, cfg) {
			t.Fatal("Check changed the config")
		}
	})
}

var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// wellFormedProblem reports whether a problem line is "key: message" with a
// key on one line, and a message that, outside quoted values, names no Go
// type and carries no YAML decoder text.
func wellFormedProblem(problem string) bool {
	key, msg, ok := strings.Cut(problem, ": ")
	if !ok || key == "" || strings.ContainsAny(key, "\r\n") {
		return false
	}
	msg = quoted.ReplaceAllString(msg, `""`)
	for _, goText := range []string{"config.", "time.Duration", "[]string", "map[", "!!", "unmarshal", "yaml:"} {
		if strings.Contains(msg, goText) {
			return false
		}
	}
	return true
}
