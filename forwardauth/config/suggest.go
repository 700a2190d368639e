package config

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// suggestion is " (did you mean P?)" for the config path P that the unknown
// key at parent most likely meant, or "" when none is near.
func suggestion(paths []string, parent, key string, val *yaml.Node) string {
	if p := nearest(paths, parent, key, val); p != "" {
		return " (did you mean " + p + "?)"
	}
	return ""
}

// nearest tries, in order: a sibling spelt alike (session.cookie_nme →
// session.cookie_name); the key in another section (client_id →
// oidc.client_id), or the key joined with one of its own keys (cookie:
// {name: …} → session.cookie_name); the path written with "_" for "."
// (session_max_age); the key in another section spelt alike.
func nearest(paths []string, parent, key string, val *yaml.Node) string {
	k := strings.ToLower(key)
	if p := closest(paths, k, func(p string) (string, bool) { return lastPart(p), parentOf(p) == parent }); p != "" {
		return p
	}
	names := []string{k}
	if val = resolve(val); val.Kind == yaml.MappingNode {
		for i := 0; i < len(val.Content); i += 2 {
			names = append(names, k+"_"+strings.ToLower(val.Content[i].Value))
		}
	}
	for _, name := range names {
		for _, p := range paths {
			if lastPart(p) == name {
				return p
			}
		}
	}
	flat := strings.ReplaceAll(join(parent, k), ".", "_")
	if p := closest(paths, flat, func(p string) (string, bool) { return strings.ReplaceAll(p, ".", "_"), true }); p != "" {
		return p
	}
	return closest(paths, k, func(p string) (string, bool) { return lastPart(p), true })
}

// closest is the first path whose name (from nameOf, when it applies) is
// nearest to key within a small edit distance; "" when none is.
func closest(paths []string, key string, nameOf func(string) (string, bool)) string {
	limit := 2
	if len(key) <= 4 {
		limit = 1
	}
	best, bestDist := "", limit+1
	for _, p := range paths {
		name, ok := nameOf(p)
		if !ok {
			continue
		}
		if d := EditDistance(key, name); d < bestDist {
			best, bestDist = p, d
		}
	}
	return best
}

func lastPart(path string) string { return path[strings.LastIndex(path, ".")+1:] }

func parentOf(path string) string {
	if i := strings.LastIndex(path, "."); i >= 0 {
		return path[:i]
	}
	return ""
}

// EditDistance is the Levenshtein distance between a and b, in bytes: how
// "did you mean" suggestions pick the nearest known key.
func EditDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
