package config

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzLoadConfig feeds arbitrary YAML and one arbitrary environment value
// to the loader and the check: neither panics, and Check has no
// side effects (twice gives the same answer and leaves the config as it was).
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
