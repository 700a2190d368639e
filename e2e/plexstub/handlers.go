package plexstub

import (
	"encoding/json"
	"html/template"
	"net/http"
	"sort"
	"strings"

	"github.com/gorilla/websocket"
)

// identityWords mark a header name as an identity header: the gate must
// control every such header that reaches Plex.
var identityWords = []string{"user", "email", "group", "name", "remote", "auth", "identity", "principal", "role", "x-forwarded-"}

// identityHeaders returns the request headers whose names contain an identity word.
func identityHeaders(h http.Header) map[string][]string {
	out := map[string][]string{}
	for name, values := range h {
		lower := strings.ToLower(name)
		for _, w := range identityWords {
			if strings.Contains(lower, w) {
				out[name] = values
				break
			}
		}
	}
	return out
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /identity", s.identity)
	mux.HandleFunc("GET /web", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/web/index.html", http.StatusMovedPermanently)
	})
	mux.HandleFunc("GET /web/", s.web)
	mux.HandleFunc("GET /:/websockets/notifications", s.requireToken(s.notifications))
	mux.HandleFunc("GET /{$}", s.requireToken(s.root))
	mux.HandleFunc("GET /library/sections", s.requireToken(librarySections))
	mux.HandleFunc("GET /photo/:/transcode", s.requireToken(photoTranscode))
	mux.HandleFunc("GET /security/token", s.requireToken(s.securityToken))
	mux.HandleFunc("GET /myplex/account", s.requireToken(s.myplexAccount))
	mux.HandleFunc("OPTIONS /", preflight)
	mux.HandleFunc("/", s.requireToken(http.NotFound))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.record(r)
		mux.ServeHTTP(w, r)
	})
}

func (s *Server) identity(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/xml;charset=utf-8")
	_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>
<MediaContainer size="0" claimed="1" machineIdentifier="` + s.certs.hash + `" version="1.41.0.0000-plexgate-stand-in">
</MediaContainer>
`))
}

// root is Plex's / : the server's own MediaContainer (a token is needed).
func (s *Server) root(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/xml;charset=utf-8")
	_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>
<MediaContainer size="0" friendlyName="plexgate stand-in" machineIdentifier="` + s.certs.hash + `" myPlex="1" version="1.41.0.0000-plexgate-stand-in">
</MediaContainer>
`))
}

// webPage is the stand-in's web app: who Plex thinks the user is.
var webPage = template.Must(template.New("web").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Plex (stand-in)</title></head>
<body>
<h1>Plex Media Server (plexgate stand-in)</h1>
<p>Signed in as <span id="user">{{if .User}}{{.User}}{{else}}(no X-Forwarded-User){{end}}</span></p>
<p>Path <span id="path">{{.Path}}</span>, TLS <span id="tls">{{.TLS}}</span></p>
<h2>Identity headers received</h2>
<ul id="identity-headers">
{{range .Headers}}<li data-name="{{.Name}}">{{.Name}}: {{.Value}}</li>
{{end}}</ul>
</body></html>
`))

type headerLine struct{ Name, Value string }

func (s *Server) web(w http.ResponseWriter, r *http.Request) {
	var lines []headerLine
	for name, values := range identityHeaders(r.Header) {
		for _, v := range values {
			lines = append(lines, headerLine{name, v})
		}
	}
	sort.Slice(lines, func(i, j int) bool { return lines[i].Name < lines[j].Name })
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = webPage.Execute(w, map[string]any{
		"User": r.Header.Get("X-Forwarded-User"), "Path": r.URL.Path, "TLS": r.TLS != nil, "Headers": lines,
	})
}

// Notification is the first message on the notification websocket.
type Notification struct {
	// Type is "hello".
	Type string `json:"type"`
	// User is the X-Forwarded-User of the upgrade request.
	User string `json:"user"`
}

var upgrader = websocket.Upgrader{}

// notifications greets with a Notification, then echoes every text message.
func (s *Server) notifications(w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader already answered with an error status
	}
	defer conn.Close()
	hello, _ := json.Marshal(map[string]Notification{"NotificationContainer": {Type: "hello", User: r.Header.Get("X-Forwarded-User")}})
	if err := conn.WriteMessage(websocket.TextMessage, hello); err != nil {
		return
	}
	for {
		kind, msg, err := conn.ReadMessage()
		if err != nil {
			return
		}
		if err := conn.WriteMessage(kind, msg); err != nil {
			return
		}
	}
}
