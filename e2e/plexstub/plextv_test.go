package plexstub

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

var yes, no = true, false

var (
	testOwner  = Account{ID: 1, UUID: "u-owner", Username: "owner", Email: "owner@example.com", Token: "owner-account-token", TwoFactorEnabled: &yes}
	testFriend = Account{ID: 2, UUID: "u-friend", Username: "friend", Email: "friend@example.com", Token: "friend-account-token", TwoFactorEnabled: &no}
	testQuiet  = Account{ID: 3, UUID: "u-quiet", Username: "quiet", Email: "quiet@example.com", Token: "quiet-account-token"}
)

func newTestPlexTV(t *testing.T) (*PlexTV, *httptest.Server) {
	t.Helper()
	p := NewPlexTV("machine-1", testOwner)
	p.AddAccount(testFriend)
	p.AddAccount(testQuiet)
	p.AddShare(testFriend, "friend-share-token")
	srv := httptest.NewServer(p.Handler())
	t.Cleanup(srv.Close)
	return p, srv
}

func plexTVGet(t *testing.T, url, token string, inQuery bool) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept", "application/json")
	if inQuery {
		req.URL.RawQuery = "X-Plex-Token=" + token
	} else if token != "" {
		req.Header.Set("X-Plex-Token", token)
	}
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

func TestUserAnswersKnownAccountsAnd401sUnknownTokens(t *testing.T) {
	_, srv := newTestPlexTV(t)
	tests := []struct {
		name, token string
		inQuery     bool
		wantStatus  int
		wantUser    string
		want2FA     string // "true", "false" or "absent"
	}{
		{"owner by header", testOwner.Token, false, 200, "owner", "true"},
		{"friend by query", testFriend.Token, true, 200, "friend", "false"},
		{"profile that does not say", testQuiet.Token, false, 200, "quiet", "absent"},
		{"share token is not an account", "friend-share-token", false, 401, "", ""},
		{"unknown", "nobody", false, 401, "", ""},
		{"none", "", false, 401, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := plexTVGet(t, srv.URL+"/api/v2/user", tt.token, tt.inQuery)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.wantStatus, body)
			}
			var got map[string]any
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("not JSON: %s", body)
			}
			if tt.wantStatus != 200 {
				if _, ok := got["errors"]; !ok {
					t.Fatalf("401 body %s lacks plex.tv's errors", body)
				}
				return
			}
			if got["username"] != tt.wantUser || got["email"] != tt.wantUser+"@example.com" || got["uuid"] != "u-"+tt.wantUser || got["id"] == nil {
				t.Fatalf("account %s", body)
			}
			tfa := "absent"
			if v, has := got["twoFactorEnabled"]; has {
				tfa = fmt.Sprint(v)
			}
			if tfa != tt.want2FA {
				t.Fatalf("twoFactorEnabled %s, want %s", tfa, tt.want2FA)
			}
		})
	}
}

func TestSharedServersListsSharesOnlyForTheOwner(t *testing.T) {
	_, srv := newTestPlexTV(t)
	resp, body := plexTVGet(t, srv.URL+"/api/servers/machine-1/shared_servers", testOwner.Token, false)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var mc struct {
		XMLName xml.Name `xml:"MediaContainer"`
		Size    int      `xml:"size,attr"`
		Servers []struct {
			AccessToken string `xml:"accessToken,attr"`
			UserID      int    `xml:"userID,attr"`
			Username    string `xml:"username,attr"`
			Email       string `xml:"email,attr"`
		} `xml:"SharedServer"`
	}
	if err := xml.Unmarshal(body, &mc); err != nil || mc.Size != 1 || len(mc.Servers) != 1 {
		t.Fatalf("%v: %s", err, body)
	}
	if s := mc.Servers[0]; s.AccessToken != "friend-share-token" || s.UserID != 2 || s.Username != "friend" || s.Email != "friend@example.com" {
		t.Fatalf("shared server %+v", s)
	}
	for _, tc := range []struct{ path, token string }{
		{"/api/servers/machine-1/shared_servers", testFriend.Token},
		{"/api/servers/machine-1/shared_servers", ""},
	} {
		if resp, _ := plexTVGet(t, srv.URL+tc.path, tc.token, false); resp.StatusCode != 401 {
			t.Errorf("token %q: status %d, want 401", tc.token, resp.StatusCode)
		}
	}
	if resp, _ := plexTVGet(t, srv.URL+"/api/servers/other/shared_servers", testOwner.Token, false); resp.StatusCode != 404 {
		t.Errorf("another server: status %d, want 404", resp.StatusCode)
	}
}

func TestOutagesAnswerAsPlexTVDoesWhenDown(t *testing.T) {
	p, srv := newTestPlexTV(t)
	for _, status := range []int{http.StatusServiceUnavailable, http.StatusTooManyRequests} {
		p.SetOutage(status)
		resp, _ := plexTVGet(t, srv.URL+"/api/v2/user", testOwner.Token, false)
		if resp.StatusCode != status || status == 429 && resp.Header.Get("Retry-After") == "" {
			t.Fatalf("outage %d: status %d", status, resp.StatusCode)
		}
	}
	p.SetOutage(Hang)
	if resp, _ := plexTVGet(t, srv.URL+"/api/v2/user", testOwner.Token, false); resp != nil {
		t.Fatalf("a hanging plex.tv answered %d", resp.StatusCode)
	}
	p.SetOutage(Up)
	if resp, _ := plexTVGet(t, srv.URL+"/api/v2/user", testOwner.Token, false); resp == nil || resp.StatusCode != 200 {
		t.Fatal("plex.tv did not come back up")
	}
	if n := p.Calls("user"); n != 4 {
		t.Fatalf("user calls %d, want 4", n)
	}
}
