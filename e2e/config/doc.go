// Package config checks the Traefik configuration that plexgate ships to
// users: static/traefik.yml and static/traefik.catalog.yml, the templated
// dynamic/ files, and examples/docker-compose.yml with its docker labels.
//
// The checks use Traefik's own decoders (the file provider's templating and
// decoding, the static-configuration file and flag decoders, and the docker
// label decoder), so a key Traefik v3.6 does not know fails here instead of
// at a user's first start. The package holds tests only.
package config
