// Package harness starts plexgate's real parts on 127.0.0.1 for the
// end-to-end tests and `make demo`: Pebble with pebble-challtestsrv (ACME),
// an OpenID provider (npm oidc-provider, shaped like Okta), the stand-in Plex
// Media Server, forwardauth and Traefik v3 loading the plugin from
// plugins-local and the shipped static and dynamic configuration.
//
// Every process runs in its own process group and is stopped by
// [Stack.Stop]; every wait is bounded and fails with the last lines of the
// process's log.
package harness
