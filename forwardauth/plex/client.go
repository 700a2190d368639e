package plex

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

var (
	// ErrInvalid means plex.tv (or, for a transient token, the Plex server)
	// said the token is not valid: 401, or 422 from plex.tv.
	ErrInvalid = errors.New("plex: token not valid")
	// ErrUnavailable means no verdict could be had: plex.tv or the Plex
	// server answered something else, too slowly or not at all, or
	// forwardauth is backing off after such answers. It never means valid.
	ErrUnavailable = errors.New("plex: verdict unavailable")
)

// Account is a plex.tv account as GET /api/v2/user describes it.
type Account struct {
	ID       int64  `json:"id"`
	UUID     string `json:"uuid"`
	Username string `json:"username"`
	Email    string `json:"email"`
	// TwoFactorEnabled is nil when plex.tv does not say.
	TwoFactorEnabled *bool `json:"twoFactorEnabled"`
}

// Share is one SharedServer entry of the owner's shared_servers list: a
// friend the server is shared with, and the token plex.tv gave them for it.
type Share struct {
	AccessToken string `xml:"accessToken,attr"`
	UserID      int64  `xml:"userID,attr"`
	Username    string `xml:"username,attr"`
	Email       string `xml:"email,attr"`
}

// maxBody bounds what is read of any answer from plex.tv or the Plex server.
const maxBody = 4 << 20

// client talks to plex.tv and to the Plex server. Every request carries the
// X-Plex-* headers python-plexapi and Tautulli send; none follows redirects
// (X-Plex-Token is a custom header that net/http would carry to another host).
type client struct {
	api, server string // base URLs without trailing slash
	http        *http.Client
	clientID    string
	apiDown     *breaker
	serverDown  *breaker
}

func newClient(api, server, clientID string, hc *http.Client, now func() time.Time, log *slog.Logger) *client {
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &client{
		api: strings.TrimSuffix(api, "/"), server: strings.TrimSuffix(server, "/"),
		http: &c, clientID: clientID, apiDown: newBreaker("plex.tv", now, log), serverDown: newBreaker("the Plex server", now, log),
	}
}

// account asks plex.tv who holds token.
func (c *client) account(ctx context.Context, token string) (Account, error) {
	var a Account
	resp, err := c.get(ctx, c.apiDown, c.api+"/api/v2/user", token, "application/json")
	if err != nil {
		return a, err
	}
	defer drain(resp)
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusUnprocessableEntity:
		return a, ErrInvalid
	default:
		return a, c.failed(c.apiDown, resp)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(&a); err != nil {
		return a, fmt.Errorf("%w: plex.tv /api/v2/user: %v", ErrUnavailable, err)
	}
	if a.ID <= 0 {
		return a, fmt.Errorf("%w: plex.tv /api/v2/user: no account id", ErrUnavailable)
	}
	return a, nil
}

// shares reads the owner's shared_servers list for the server machineID.
func (c *client) shares(ctx context.Context, ownerToken, machineID string) ([]Share, error) {
	u := c.api + "/api/servers/" + url.PathEscape(machineID) + "/shared_servers"
	resp, err := c.get(ctx, c.apiDown, u, ownerToken, "application/xml")
	if err != nil {
		return nil, err
	}
	defer drain(resp)
	if resp.StatusCode == http.StatusUnauthorized {
		return nil, fmt.Errorf("%w: plex.tv refused the owner token for shared_servers (401)", ErrUnavailable)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, c.failed(c.apiDown, resp)
	}
	var doc struct {
		Shares []Share `xml:"SharedServer"`
	}
	if err := xml.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: plex.tv shared_servers: %v", ErrUnavailable, err)
	}
	return doc.Shares, nil
}

// machineID reads the Plex server's machineIdentifier from /identity.
func (c *client) machineID(ctx context.Context) (string, error) {
	resp, err := c.get(ctx, c.serverDown, c.server+"/identity", "", "application/xml")
	if err != nil {
		return "", err
	}
	defer drain(resp)
	if resp.StatusCode != http.StatusOK {
		return "", c.failed(c.serverDown, resp)
	}
	var doc struct {
		MachineIdentifier string `xml:"machineIdentifier,attr"`
	}
	if err := xml.NewDecoder(io.LimitReader(resp.Body, maxBody)).Decode(&doc); err != nil || doc.MachineIdentifier == "" {
		return "", fmt.Errorf("%w: Plex server /identity has no machineIdentifier", ErrUnavailable)
	}
	return doc.MachineIdentifier, nil
}

// serverAccepts asks the Plex server whether it accepts token, on its root
// endpoint, which needs a token. It first makes sure the server refuses the
// same request without one: a server that lets forwardauth's address in
// without a token ("List of IP addresses and networks that are allowed
// without auth") would accept any token, so it gives no verdict.
func (c *client) serverAccepts(ctx context.Context, token string) error {
	for _, tok := range []string{"", token} {
		resp, err := c.get(ctx, c.serverDown, c.server+"/", tok, "application/xml")
		if err != nil {
			return err
		}
		drain(resp)
		switch ok := resp.StatusCode/100 == 2; {
		case tok == "" && resp.StatusCode == http.StatusUnauthorized:
		case tok == "" && ok:
			return fmt.Errorf("%w: the Plex server answers without a token, so it cannot vouch for one", ErrUnavailable)
		case tok != "" && ok:
			return nil
		case resp.StatusCode == http.StatusUnauthorized:
			return ErrInvalid
		default:
			return c.failed(c.serverDown, resp)
		}
	}
	return nil // not reached: the second round always returns
}

// get sends one GET unless the breaker is open. A request that fails or
// times out trips the breaker; the caller's cancellation does not.
func (c *client) get(ctx context.Context, b *breaker, u, token, accept string) (*http.Response, error) {
	if wait := b.wait(); wait > 0 {
		return nil, fmt.Errorf("%w: backing off for %s", ErrUnavailable, wait.Round(time.Second))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("X-Plex-Product", "plexgate")
	req.Header.Set("X-Plex-Client-Identifier", c.clientID)
	if token != "" {
		req.Header.Set(TokenParam, token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() == nil {
			b.fail(0)
		}
		// url.Error text holds the URL only; the token travels in a header.
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode < 500 {
		b.succeed()
	}
	return resp, nil
}

// failed turns an unexpected status into ErrUnavailable, tripping the
// breaker on 429 and 5xx (honouring Retry-After seconds).
func (c *client) failed(b *breaker, resp *http.Response) error {
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		b.fail(retryAfter(resp.Header.Get("Retry-After")))
	}
	return fmt.Errorf("%w: %s answered %d", ErrUnavailable, resp.Request.URL.Host, resp.StatusCode)
}

// drain reads the rest of a body (so that the connection is reused) and closes it.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	_ = resp.Body.Close()
}
