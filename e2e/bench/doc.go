// Package bench measures plexgate through the real Traefik binary: nine
// routers on one plain-HTTP entrypoint, all in front of the same small
// upstream, driven by a keep-alive HTTP/1.1 load generator in rounds so that
// machine drift shows. It writes bench/RESULTS.md and bench/chart.svg.
//
// The routes:
//
//  1. no authentication (the physical limit);
//  2. the plexgate plugin, cache hit (one valid session);
//  3. the plugin, local-verify misses (more distinct sessions than the cache holds);
//  4. the plugin in delegate mode (no local key), cache hits after the first request;
//  5. Traefik's forwardAuth → forwardauth /validate;
//  6. Traefik's forwardAuth → a null auth server that answers 200 at once;
//  7. (diagnostic) an empty Yaegi plugin that only calls the next handler:
//     what Traefik's plugin machinery costs any plugin;
//  8. the plugin, Plex token hit: a Plex app's X-Plex-Token header,
//     verified once by forwardauth with a stand-in plex.tv, then cache hits;
//  9. the same with the token in Plex Web's query string.
//
// cmd/bench wires it; the README in bench/ explains the method.
package bench
