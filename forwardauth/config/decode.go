package config

import (
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// decodeFile decodes the YAML file at path over cfg, key by key. A key that
// is unknown, of the wrong type or set twice is a problem named by its
// config path, and the rest of the file still applies, so that one run
// reports them all. An unreadable file or broken YAML is an error instead.
func decodeFile(path string, cfg *Config) (Problems, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("config: %s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return nil, nil // empty file
	}
	d := &decoder{paths: leafPaths()}
	d.mapping(doc.Content[0], reflect.ValueOf(cfg).Elem(), "")
	return d.problems, nil
}

// decoder walks a YAML document along the Config struct's yaml tags.
type decoder struct {
	paths    []string // every leaf path, for suggestions
	problems Problems
}

// mapping decodes n, which must be a YAML mapping, into the struct v at path.
func (d *decoder) mapping(n *yaml.Node, v reflect.Value, path string) {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.problems.Addf(orTop(path), "must be a mapping of keys, not %s", describe(n))
		return
	}
	index := fieldIndex(v.Type())
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		full := join(path, keyText(k.Value))
		fi, known := index[k.Value]
		if !known {
			d.problems.Addf(full, "unknown key%s", suggestion(d.paths, path, k.Value, val))
			continue
		}
		if line, twice := seen[k.Value]; twice {
			d.problems.Addf(full, "set twice (lines %d and %d)", line, k.Line)
		}
		seen[k.Value] = k.Line
		if fv := v.Field(fi); fv.Kind() == reflect.Struct {
			d.mapping(val, fv, full)
		} else {
			d.leaf(val, fv, full)
		}
	}
}

// leaf decodes n into the field v at path; on a wrong type v is unchanged.
// As in yaml's own decoding, a null keeps a scalar's value (the default) and
// empties a list or a mapping, and a mapping replaces the default one.
func (d *decoder) leaf(n *yaml.Node, v reflect.Value, path string) {
	n = resolve(n)
	tmp := reflect.New(v.Type())
	if v.Kind() != reflect.Map {
		tmp.Elem().Set(v)
	}
	if err := n.Decode(tmp.Interface()); err != nil {
		d.problems.Addf(path, "%s", typeProblem(n, v.Type()))
		return
	}
	v.Set(tmp.Elem())
}

var durationType = reflect.TypeOf(time.Duration(0))

// typeProblem says what a leaf of type t must be, quoting what n is.
func typeProblem(n *yaml.Node, t reflect.Type) string {
	got := describe(n)
	switch {
	case t == durationType:
		return got + " is not a duration (e.g. 12h, 30m, 90s)"
	case t.Kind() == reflect.Bool:
		return got + " is not true or false"
	case t.Kind() == reflect.String:
		return "must be a single value, not " + got
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
		return got + " is not a whole number"
	case t.Kind() == reflect.Slice:
		return "must be a list (e.g. [a, b]), not " + got
	case t.Kind() == reflect.Map:
		return "must be a mapping (e.g. {given_name: X-Given-Name}), not " + got
	}
	return got + " has the wrong type"
}

// describe names a node for a message: a scalar quoted (at most 60 bytes),
// else its kind.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	}
	s := n.Value
	if len(s) > 60 {
		s = strings.ToValidUTF8(s[:60], "") + "…"
	}
	return fmt.Sprintf("%q", s)
}

// resolve follows a YAML alias (*name) to its anchor.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// fieldIndex maps the yaml names of struct type t to field indexes.
func fieldIndex(t reflect.Type) map[string]int {
	m := map[string]int{}
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); name != "" && name != "-" {
			m[name] = i
		}
	}
	return m
}

// leafPaths lists every config path, sections included ("session",
// "session.cookie_name"), in declaration order.
func leafPaths() []string {
	cfg := Default()
	seen := map[string]bool{}
	var out []string
	for _, f := range fields(&cfg) {
		parts := strings.Split(f.path, ".")
		for i := 1; i <= len(parts); i++ {
			if p := strings.Join(parts[:i], "."); !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// keyText is a key as it goes into a path: quoted unless it is plain
// (letters, digits, "_", "-", "."), so that an odd key cannot break a line.
func keyText(key string) string {
	for _, r := range key {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || r == '.') {
			return strconv.Quote(key)
		}
	}
	if key == "" {
		return `""`
	}
	return key
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orTop(path string) string {
	if path == "" {
		return "(top level)"
	}
	return path
}
