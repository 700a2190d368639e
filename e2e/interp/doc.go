// Package interp runs the plexgate plugin the way Traefik does: copied into
// a plugins-local/src/github.com/plexgate/plexgate layout, loaded by
// Traefik's own plugin loader (github.com/traefik/traefik/v3/pkg/plugins) and
// interpreted by Yaegi. Its tests check that the .traefik.yml testData passes
// New and that the main behaviours hold interpreted; its benchmarks measure
// the interpreted hot paths.
package interp
