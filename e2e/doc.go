// Package e2e holds plexgate's end-to-end tests: every scenario runs
// against real parts started by package harness — Traefik v3 built from its
// module with the plugin in plugins-local and the shipped static/ and
// dynamic/ configuration, Pebble issuing certificates over ACME
// (TLS-ALPN-01), forwardauth built from this repository, an OpenID provider
// (npm oidc-provider, shaped like Okta), headless Chromium driven by
// playwright-core, and a stand-in Plex Media Server.
//
// TestMain starts one stack for all tests; run them with `make test` (which
// installs what is missing) or `go test ./` in this directory. Logs, the
// generated configuration and failure screenshots stay in
// e2e/.work/run-*/.
package e2e
