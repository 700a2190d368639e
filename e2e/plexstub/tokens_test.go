package plexstub

import (
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// startTokenStub starts a stand-in Plex that requires tokens plex.tv knows.
func startTokenStub(t *testing.T) (*Server, *httptest.Server) {
	t.Helper()
	tv := NewPlexTV("machine-1", testOwner)
	tv.AddAccount(testFriend)
	tv.AddShare(testFriend, "friend-share-token")
	s, err := New(Options{TokenKind: tv.TokenKind, OwnerToken: testOwner.Token})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return s, srv
}

func plexGet(t *testing.T, srv *httptest.Server, target, token string) (*http.Response, string) {
	t.Helper()
	h := http.Header{}
	if token != "" {
		h.Set("X-Plex-Token", token)
	}
	return get(t, srv.Client(), srv.URL+target, h)
}

func TestProtectedPathsRequireAKnownToken(t *testing.T) {
	_, srv := startTokenStub(t)
	nested := "/photo/:/transcode?width=100&url=" + url.QueryEscape("/library/metadata/1/thumb?X-Plex-Token="+testOwner.Token)
	tests := []struct {
		name, target, token string
		want                int
	}{
		{"owner's account token", "/library/sections", testOwner.Token, 200},
		{"the root with a token", "/", testOwner.Token, 200},
		{"the root without", "/", "", 401},
		{"friend's share token", "/library/sections", "friend-share-token", 200},
		{"token in the query", "/library/sections?X-Plex-Token=" + testOwner.Token, "", 200},
		{"token nested in the transcoder's url", nested, "", 200},
		{"no token", "/library/sections", "", 401},
		{"unknown token", "/library/sections", "nobody", 401},
		{"unknown path without token", "/status/sessions", "", 401},
		{"identity needs none", "/identity", "", 200},
		{"web app needs none", "/web/index.html", "", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if resp, body := plexGet(t, srv, tt.target, tt.token); resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d: %.100q", resp.StatusCode, tt.want, body)
			}
		})
	}
}

func TestTransientTokensAreMintedAndAccepted(t *testing.T) {
	s, srv := startTokenStub(t)
	resp, body := plexGet(t, srv, "/security/token?type=delegation&scope=all", testOwner.Token)
	var mc struct {
		Token string `xml:"token,attr"`
	}
	if err := xml.Unmarshal([]byte(body), &mc); resp.StatusCode != 200 || err != nil || !strings.HasPrefix(mc.Token, "transient-") {
		t.Fatalf("status %d, %v: %s", resp.StatusCode, err, body)
	}
	if resp, _ := plexGet(t, srv, "/library/sections", mc.Token); resp.StatusCode != 200 {
		t.Fatalf("the minted transient token: status %d", resp.StatusCode)
	}
	if resp, _ := plexGet(t, srv, "/library/sections", "transient-never-minted"); resp.StatusCode != 401 {
		t.Fatalf("a transient token never minted: status %d", resp.StatusCode)
	}
	// The escalation the gate must block: any valid token gets the owner's.
	if _, body := plexGet(t, srv, "/myplex/account", mc.Token); !strings.Contains(body, `authToken="`+testOwner.Token+`"`) {
		t.Fatalf("/myplex/account: %s", body)
	}
	kinds := map[string]bool{}
	for _, r := range s.Requests() {
		kinds[r.TokenKind] = true
	}
	if !kinds[KindAccount] || !kinds[KindTransient] || !kinds[KindInvalid] {
		t.Fatalf("recorded kinds %v", kinds)
	}
}

func TestPreflightNeedsNoTokenAndGetsCORSHeaders(t *testing.T) {
	_, srv := startTokenStub(t)
	req, _ := http.NewRequest(http.MethodOptions, srv.URL+"/library/sections", nil)
	req.Header.Set("Origin", "https://app.plex.tv")
	req.Header.Set("Access-Control-Request-Method", "GET")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.plex.tv" {
		t.Fatalf("status %d, headers %v", resp.StatusCode, resp.Header)
	}
}

func TestWebsocketRequiresAToken(t *testing.T) {
	_, srv := startTokenStub(t)
	ws := "ws" + strings.TrimPrefix(srv.URL, "http") + "/:/websockets/notifications"
	if _, resp, err := websocket.DefaultDialer.Dial(ws, nil); err == nil || resp == nil || resp.StatusCode != 401 {
		t.Fatalf("without a token: %v %v", resp, err)
	}
	conn, _, err := websocket.DefaultDialer.Dial(ws+"?X-Plex-Token="+testOwner.Token, nil)
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
}
