package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/plexgate/plexgate/e2e/harness"
	"github.com/plexgate/plexgate/e2e/plexstub"
)

func websocketDialer() *websocket.Dialer {
	return &websocket.Dialer{
		NetDialContext:   harness.DialLoopback,
		TLSClientConfig:  harness.TLSConfig("", stack.Pebble.Root),
		HandshakeTimeout: 10 * time.Second,
	}
}

// Scenario 5: Plex's notification websocket works through the gated router
// with a valid session, and is refused without one. Plex Web puts its Plex
// token in the query (Plex needs it); the session decides at the gate.
func TestWebsocketWorksThroughGateWithSession(t *testing.T) {
	session := signIn(t, harness.Alice)
	url := "wss://" + harness.PlexHost + stack.WebsecureAddr()[strings.LastIndex(stack.WebsecureAddr(), ":"):] +
		"/:/websockets/notifications?X-Plex-Token=" + stack.PlexAccounts.Owner.Token
	conn, resp, err := websocketDialer().DialContext(t.Context(), url, withSession(session, nil))
	if err != nil {
		t.Fatalf("dial %s: %v (response %+v)", url, err, resp)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, msg, err := conn.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	var hello map[string]plexstub.Notification
	if err := json.Unmarshal(msg, &hello); err != nil || hello["NotificationContainer"].User != harness.Alice.Email {
		t.Fatalf("greeting %q (%v), want user %s", msg, err, harness.Alice.Email)
	}
	if err := conn.WriteMessage(websocket.TextMessage, []byte("ping")); err != nil {
		t.Fatal(err)
	}
	if _, echo, err := conn.ReadMessage(); err != nil || string(echo) != "ping" {
		t.Fatalf("echo %q, %v", echo, err)
	}
}

func TestWebsocketWithoutSessionIsRefused(t *testing.T) {
	seen := len(stack.Plex.Requests())
	url := "wss://" + harness.PlexHost + stack.WebsecureAddr()[strings.LastIndex(stack.WebsecureAddr(), ":"):] + "/:/websockets/notifications"
	conn, resp, err := websocketDialer().DialContext(t.Context(), url, nil)
	if err == nil {
		conn.Close()
		t.Fatal("websocket opened without a session")
	}
	if resp == nil || (resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusFound) {
		t.Fatalf("response %+v, want 401 or a redirect to login", resp)
	}
	if plexSaw(seen, "/:/websockets") {
		t.Fatal("the upgrade reached Plex")
	}
}
