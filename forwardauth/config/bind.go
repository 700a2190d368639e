package config

import (
	"flag"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// field is one leaf of Config, addressed by its dotted YAML path.
type field struct {
	path  string        // e.g. "oidc.client_secret"
	value reflect.Value // settable
}

// envName is the environment variable for a dotted path:
// "oidc.client_secret" → "PLEXGATE_OIDC_CLIENT_SECRET".
func envName(path string) string {
	return "PLEXGATE_" + strings.ToUpper(strings.ReplaceAll(path, ".", "_"))
}

// fields lists every leaf of cfg in declaration order, walking the yaml tags.
func fields(cfg *Config) []field {
	var out []field
	walk(reflect.ValueOf(cfg).Elem(), "", &out)
	return out
}

func walk(v reflect.Value, prefix string, out *[]field) {
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		path := prefix + name
		fv := v.Field(i)
		if fv.Kind() == reflect.Struct {
			walk(fv, path+".", out)
			continue
		}
		*out = append(*out, field{path: path, value: fv})
	}
}

// applyEnv sets every field whose environment variable is present; a value
// that does not parse is a problem named by its config path and variable.
func applyEnv(cfg *Config, lookup func(string) (string, bool)) Problems {
	if lookup == nil {
		return nil
	}
	var p Problems
	for _, f := range fields(cfg) {
		name := envName(f.path)
		raw, ok := lookup(name)
		if !ok {
			continue
		}
		if err := setValue(f.value, raw); err != nil {
			p.Addf(f.path, "%v (from %s)", err, name)
		}
	}
	return p
}

// applyFlags sets the fields named by dotted path in flags; a value that
// does not parse is a problem named by its config path and flag.
func applyFlags(cfg *Config, flags map[string]string) Problems {
	byPath := map[string]reflect.Value{}
	for _, f := range fields(cfg) {
		byPath[f.path] = f.value
	}
	paths := make([]string, 0, len(flags))
	for p := range flags {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var p Problems
	for _, path := range paths {
		v, ok := byPath[path]
		if !ok {
			p.Addf(path, "unknown key (from -%s)", path)
			continue
		}
		if err := setValue(v, flags[path]); err != nil {
			p.Addf(path, "%v (from -%s)", err, path)
		}
	}
	return p
}

// setValue parses raw into v. Lists are comma-separated ("a,b"), maps are
// comma-separated key=value pairs ("given_name=X-Given-Name"), durations use
// time.ParseDuration syntax ("12h").
func setValue(v reflect.Value, raw string) error {
	switch {
	case v.Type() == reflect.TypeOf(time.Duration(0)):
		d, err := time.ParseDuration(strings.TrimSpace(raw))
		if err != nil {
			return fmt.Errorf("%q is not a duration (e.g. 12h, 30m, 90s)", raw)
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.String:
		v.SetString(raw)
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(raw))
		if err != nil {
			return fmt.Errorf("%q is not true or false", raw)
		}
		v.SetBool(b)
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String:
		v.Set(reflect.ValueOf(splitList(raw)))
	case v.Kind() == reflect.Map:
		m, err := parseMap(raw)
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(m))
	default:
		return fmt.Errorf("cannot be set by environment variable or flag")
	}
	return nil
}

func splitList(raw string) []string {
	out := []string{}
	for _, s := range strings.Split(raw, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func parseMap(raw string) (map[string]string, error) {
	m := map[string]string{}
	for _, pair := range splitList(raw) {
		k, val, ok := strings.Cut(pair, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("%q is not a key=value pair", pair)
		}
		m[strings.TrimSpace(k)] = strings.TrimSpace(val)
	}
	return m, nil
}

// flagValue collects a flag's raw value under its dotted path, so that flags
// are applied after the file and the environment.
type flagValue struct {
	path   string
	isBool bool
	set    map[string]string
}

func (f flagValue) String() string { return "" }

func (f flagValue) Set(s string) error {
	f.set[f.path] = s
	return nil
}

// IsBoolFlag lets a bool leaf be given as "-oidc.use_userinfo" alone.
func (f flagValue) IsBoolFlag() bool { return f.isBool }

// RegisterFlags adds one flag per Config leaf to fs (-oidc.client_id) and
// returns the map that collects the values given on the command line, for Load.
func RegisterFlags(fs *flag.FlagSet) map[string]string {
	set := map[string]string{}
	cfg := Default()
	for _, f := range fields(&cfg) {
		usage := fmt.Sprintf("config %s (env %s)", f.path, envName(f.path))
		if def := defaultText(f.value); def != "" {
			usage += "; default " + def
		}
		fs.Var(flagValue{path: f.path, isBool: f.value.Kind() == reflect.Bool, set: set}, f.path, usage)
	}
	return set
}

// defaultText renders a default value for -help ("" for empty values).
func defaultText(v reflect.Value) string {
	switch {
	case v.Type() == reflect.TypeOf(time.Duration(0)):
		return time.Duration(v.Int()).String()
	case v.Kind() == reflect.Slice:
		return strings.Join(v.Interface().([]string), ",")
	case v.Kind() == reflect.Map:
		return ""
	case v.Kind() == reflect.Bool && !v.Bool():
		return ""
	}
	return fmt.Sprint(v.Interface())
}
