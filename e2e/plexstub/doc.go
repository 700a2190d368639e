// Package plexstub is a stand-in for Plex Media Server in plexgate's
// end-to-end tests and demo. It answers the paths plexgate routes —
// /identity, /web (the web app), and the notification websocket
// /:/websockets/notifications — and, like Plex on port 32400, serves plain
// HTTP and TLS on one port by looking at the first byte of each connection.
// Its TLS certificate is for *.<hash>.plex.direct, issued by its own CA,
// like the certificates plex.tv gives real servers.
//
// The web page shows the X-Forwarded-User header it received and every
// request header that looks like an identity header, so tests can see what
// the gate passed on; the server also records every request it answered.
package plexstub
