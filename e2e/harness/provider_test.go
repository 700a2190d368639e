package harness

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plexgate/plexgate/e2e/plexstub"
)

// idTokenClaims exchanges the code at the provider and decodes the ID
// token's payload (the provider is the harness's; verification is
// forwardauth's job and tested there).
func idTokenClaims(ctx context.Context, p *Provider, client OIDCClient, code, verifier string) (map[string]any, error) {
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {client.RedirectURIs[0]}, "code_verifier": {verifier}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, p.Issuer+"/v1/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(client.ID, client.Secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var tok struct {
		IDToken string `json:"id_token"`
		Error   string `json:"error_description"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.IDToken == "" {
		return nil, fmt.Errorf("token endpoint: status %d %s %v", resp.StatusCode, tok.Error, err)
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(tok.IDToken, ".")[1])
	if err != nil {
		return nil, err
	}
	claims := map[string]any{}
	return claims, json.Unmarshal(payload, &claims)
}

func startTestBrowser(t *testing.T, paths Paths, dir string) *Browser {
	t.Helper()
	stub, err := plexstub.New(plexstub.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rootPEM := filepath.Join(dir, "any-root.pem")
	os.WriteFile(rootPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: stub.CA().Raw}), 0o644)
	b, err := NewBrowser(paths, dir, rootPEM)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestProviderLoginEarnsMFAOnlyWithTheRightOneTimeCode(t *testing.T) {
	paths, err := FindPaths()
	if err != nil {
		t.Fatal(err)
	}
	if err := paths.CheckTools(NodeTools, BrowserTools); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	codes := make(chan string, 1)
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	rp := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/cb" {
			http.NotFound(w, r) // the browser also asks for /favicon.ico
			return
		}
		select {
		case codes <- r.URL.Query().Get("code"):
			fmt.Fprint(w, "callback reached")
		default:
			http.Error(w, "unexpected second callback", http.StatusConflict)
		}
	})}
	go rp.Serve(l)
	t.Cleanup(func() { rp.Close() })
	client := OIDCClient{ID: "rp", Secret: "rp-secret-rp-secret-rp-secret-0123", RedirectURIs: []string{"http://" + l.Addr().String() + "/cb"}}
	var port int
	if err := freePorts(&port); err != nil {
		t.Fatal(err)
	}
	p, err := StartProvider(t.Context(), paths, dir, port, client, []User{Alice, Bob})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	browser := startTestBrowser(t, paths, dir)
	wrongCode, wrongPassword := Alice, Bob
	wrongCode.OTP, wrongPassword.Password = "000000", "not-bobs-password"
	tests := []struct {
		name     string
		user     User
		wantAMR  string // "" means the login must be refused
		wantACR  string
		wantText string
	}{
		{"password and code", Alice, `["pwd","mfa"]`, "urn:okta:loa:2fa:any", "callback reached"},
		{"password only", Bob, `["pwd"]`, "urn:okta:loa:1fa:pwd", "callback reached"},
		{"wrong code", wrongCode, "", "", "That code is not valid."},
		{"wrong password", wrongPassword, "", "", "wrong username or password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			verifier := "verifier-" + strings.Repeat(tt.user.Username, 12)
			sum := sha256.Sum256([]byte(verifier))
			auth := p.Issuer + "/v1/authorize?" + url.Values{
				"client_id": {client.ID}, "response_type": {"code"}, "scope": {"openid email profile groups"},
				"redirect_uri": {client.RedirectURIs[0]}, "state": {"s"}, "nonce": {"n"},
				"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
			}.Encode()
			res, err := browser.Run(t.Context(), "provider-"+tt.user.Username, BrowserStep{Goto: auth}, BrowserStep{Login: &tt.user})
			if err != nil {
				t.Fatal(err)
			}
			if last := res.Steps[1]; !strings.Contains(last.Text, tt.wantText) {
				t.Fatalf("login ended at %s: %q, want %q", last.URL, last.Text, tt.wantText)
			}
			if tt.wantAMR == "" {
				if len(codes) != 0 {
					t.Fatal("a refused login reached the callback")
				}
				return
			}
			claims, err := idTokenClaims(t.Context(), p, client, <-codes, verifier)
			if err != nil {
				t.Fatal(err)
			}
			amr, _ := json.Marshal(claims["amr"])
			groups, _ := json.Marshal(claims["groups"])
			if string(amr) != tt.wantAMR || claims["acr"] != tt.wantACR || string(groups) != `["plex-users"]` || claims["email"] != tt.user.Email {
				t.Fatalf("claims %v", claims)
			}
		})
	}
}
