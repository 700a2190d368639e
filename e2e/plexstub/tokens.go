package plexstub

import (
	"crypto/rand"
	"net/http"
	"net/url"
	"strings"
)

// Token kinds recorded in Request.TokenKind.
const (
	// KindNone: the request carried no Plex token.
	KindNone = ""
	// KindAccount, KindShare: a token plex.tv knows (Options.TokenKind).
	KindAccount = "account"
	KindShare   = "share"
	// KindTransient: a token this server minted at /security/token.
	KindTransient = "transient"
	// KindInvalid: a token neither knows.
	KindInvalid = "invalid"
)

// plexRequestToken is the token Plex reads from a request: the
// X-Plex-Token header, else the query parameter (name in any case), else,
// for the photo transcoder, the one inside its url parameter (the
// transcoder fetches that URL with it).
func plexRequestToken(r *http.Request) string {
	if t := r.Header.Get("X-Plex-Token"); t != "" {
		return t
	}
	q := r.URL.Query()
	for k, vs := range q {
		if strings.EqualFold(k, "X-Plex-Token") && len(vs) > 0 && vs[0] != "" {
			return vs[0]
		}
	}
	if inner, err := url.Parse(q.Get("url")); err == nil && r.URL.Path == "/photo/:/transcode" {
		return inner.Query().Get("X-Plex-Token")
	}
	return ""
}

// kindOf classifies token.
func (s *Server) kindOf(token string) string {
	if token == "" {
		return KindNone
	}
	s.mu.Lock()
	transient := s.transient[token]
	s.mu.Unlock()
	switch {
	case transient:
		return KindTransient
	case s.tokenKind == nil:
		return KindInvalid
	}
	if k := s.tokenKind(token); k != "" {
		return k
	}
	return KindInvalid
}

// requireToken answers 401, as Plex does, unless the request carries a
// valid token; without Options.TokenKind every request passes (the
// stand-in then requires no token, as before tokens were modelled).
func (s *Server) requireToken(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.tokenKind != nil {
			if k := s.kindOf(plexRequestToken(r)); k == KindNone || k == KindInvalid {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = w.Write([]byte("<html><head><title>Unauthorized</title></head><body><h1>401 Unauthorized</h1></body></html>\n"))
				return
			}
		}
		allowOrigin(w, r)
		h(w, r)
	}
}

// allowOrigin sets the CORS headers Plex sends to its hosted web app.
func allowOrigin(w http.ResponseWriter, r *http.Request) {
	if o := r.Header.Get("Origin"); o != "" {
		w.Header().Set("Access-Control-Allow-Origin", o)
		w.Header().Set("Vary", "Origin")
	}
}

// preflight answers a CORS preflight, which carries no token, as Plex does.
func preflight(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Origin") == "" || r.Header.Get("Access-Control-Request-Method") == "" {
		http.Error(w, "Bad Request", http.StatusBadRequest)
		return
	}
	allowOrigin(w, r)
	w.Header().Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS, HEAD")
	w.Header().Set("Access-Control-Allow-Headers", "X-Plex-Token, X-Plex-Product, X-Plex-Client-Identifier, Accept, Content-Type")
	w.Header().Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}

// librarySections is a small /library/sections answer.
func librarySections(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/xml;charset=utf-8")
	_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>
<MediaContainer size="1" allowSync="0" title1="Plex Library">
<Directory key="1" type="movie" title="Movies" agent="tv.plex.agents.movie" scanner="Plex Movie" />
</MediaContainer>
`))
}

// pngPixel is a 1×1 PNG, the stand-in's transcoded photo.
var pngPixel = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")

func photoTranscode(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "image/png")
	_, _ = w.Write(pngPixel)
}

// securityToken mints a transient token, as Plex does for casting devices
// (GET /security/token?type=delegation&scope=all).
func (s *Server) securityToken(w http.ResponseWriter, _ *http.Request) {
	tok := "transient-" + strings.ToLower(rand.Text())
	s.mu.Lock()
	s.transient[tok] = true
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml;charset=utf-8")
	_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>
<MediaContainer size="0" token="` + tok + `">
</MediaContainer>
`))
}

// myplexAccount answers like Plex's /myplex/account: it hands out the
// owner's permanent token to any valid token, the escalation of
// CVE-2025-69414 that the gate must refuse to non-owners.
func (s *Server) myplexAccount(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/xml;charset=utf-8")
	_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>
<MyPlex authToken="` + s.ownerToken + `" username="owner" mappingState="mapped" signInState="ok" />
`))
}
