package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/plexgate/plexgate/e2e/harness"
)

// Scenario 7: identity headers sent by the client never reach Plex, with or
// without a session.
func TestClientSentIdentityHeadersNeverReachPlex(t *testing.T) {
	session := signIn(t, harness.Alice)
	tests := []struct {
		name    string
		header  http.Header
		session bool
	}{
		{"X-Forwarded-User with session", http.Header{"X-Forwarded-User": {"admin"}}, true},
		{"x-forwarded-user lower case", http.Header{"x-forwarded-user": {"admin"}}, true},
		{"all identity headers", http.Header{"X-Forwarded-User": {"admin"}, "X-Forwarded-Email": {"admin@evil.example"}, "X-Forwarded-Groups": {"admin"}}, true},
		{"underscore variant", http.Header{"X_Forwarded_User": {"admin"}}, true},
		{"X-Forwarded-User without session", http.Header{"X-Forwarded-User": {"admin"}, "Accept": {"text/html"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := len(stack.Plex.Requests())
			h := tt.header
			if tt.session {
				h = withSession(session, h)
			}
			r := get(t, stack.PlexURL("/web/index.html"), h)
			if strings.Contains(r.body, "admin") {
				t.Fatalf("Plex's page shows a client-sent identity: %.500q", r.body)
			}
			for _, req := range stack.Plex.Requests()[seen:] {
				for name, values := range req.IdentityHeaders {
					for _, v := range values {
						if strings.Contains(v, "admin") {
							t.Fatalf("Plex received %s: %s", name, v)
						}
					}
				}
				if tt.session && req.User != harness.Alice.Email {
					t.Fatalf("Plex received X-Forwarded-User %q, want %q", req.User, harness.Alice.Email)
				}
			}
			if tt.session && r.status != http.StatusOK {
				t.Fatalf("status %d with a valid session", r.status)
			}
			if !tt.session && plexSaw(seen, "/") {
				t.Fatal("a request without session reached Plex")
			}
		})
	}
}
