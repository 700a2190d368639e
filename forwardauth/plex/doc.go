// Package plex verifies Plex tokens for forwardauth: it finds the token in a
// request (the X-Plex-Token header and the query, also nested inside another
// parameter such as the url= of /photo/:/transcode), learns who holds it from
// plex.tv or the Plex server, applies the plex_* rules and caches the verdict.
//
// Three kinds of token are known:
//
//   - account tokens (the owner's and Plex Home users' devices), answered by
//     plex.tv GET /api/v2/user;
//   - share tokens of friends (the accessToken plex.tv hands a friend's app
//     for one shared server), found in the owner's
//     GET /api/servers/{machineIdentifier}/shared_servers list;
//   - transient tokens ("transient-…", minted by the Plex server itself
//     through /security/token), checked at the Plex server.
//
// plex.tv being slow or down never makes a token valid: new tokens get
// ErrUnavailable while earlier verdicts are answered from the cache until
// they expire. Tokens are never logged and never kept: caches are keyed by
// their SHA-256.
package plex
