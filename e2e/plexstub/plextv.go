package plexstub

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Account is a plex.tv account as GET /api/v2/user describes it.
type Account struct {
	// ID is the numeric account id; UUID its uuid.
	ID   int
	UUID string
	// Username and Email as on plex.tv.
	Username, Email string
	// Token is the account's token (X-Plex-Token).
	Token string
	// TwoFactorEnabled is the profile's twoFactorEnabled; nil leaves the
	// field out of the answer (plex.tv not saying).
	TwoFactorEnabled *bool
}

// Share is the server shared with a friend: the friend's account and the
// access token plex.tv gave the friend's apps for this server.
type Share struct {
	Friend      Account
	AccessToken string
}

// retryAfterSeconds is the Retry-After of a 429 outage: short, so that a
// test's outage ends soon after it is lifted.
const retryAfterSeconds = 2

// Outage modes for PlexTV.SetOutage besides an HTTP status code.
const (
	// Up answers normally.
	Up = 0
	// Hang accepts requests and never answers them (until the client gives
	// up or the outage ends).
	Hang = -1
)

// PlexTV is the stand-in for plex.tv: the two endpoints plexgate reads,
// answered as python-plexapi, Overseerr and Tautulli read them.
//
//   - GET /api/v2/user (Accept: application/json, X-Plex-Token): the
//     account's id, uuid, username, email and twoFactorEnabled; 401 with
//     plex.tv's error body for an unknown token.
//   - GET /api/servers/{machineIdentifier}/shared_servers (X-Plex-Token of
//     the owner): the v1 XML MediaContainer of SharedServer elements with
//     accessToken, userID, username and email; 401 for any other token, 404
//     for another server.
//
// Create it with NewPlexTV; it is safe for concurrent use.
type PlexTV struct {
	machineID string
	owner     Account

	mu       sync.Mutex
	accounts map[string]Account // by token
	shares   []Share
	outage   int
	calls    map[string]int
	release  chan struct{} // closed when a Hang outage ends
}

// NewPlexTV makes a plex.tv that knows owner, the owner of the server
// machineID.
func NewPlexTV(machineID string, owner Account) *PlexTV {
	p := &PlexTV{machineID: machineID, owner: owner, accounts: map[string]Account{}, calls: map[string]int{}}
	p.accounts[owner.Token] = owner
	return p
}

// SetMachineID sets the server whose shares it lists.
func (p *PlexTV) SetMachineID(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.machineID = id
}

// AddAccount makes a's token known (another account: a Plex Home user, a
// friend, or someone the rules do not allow).
func (p *PlexTV) AddAccount(a Account) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.accounts[a.Token] = a
}

// AddShare shares the server with friend; their apps use accessToken for it.
func (p *PlexTV) AddShare(friend Account, accessToken string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.shares = append(p.shares, Share{Friend: friend, AccessToken: accessToken})
}

// SetOutage makes every endpoint answer with status (e.g. 503 or 429, with
// Retry-After for 429), or Hang, until SetOutage(Up).
func (p *PlexTV) SetOutage(status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.outage == Hang && status != Hang {
		close(p.release)
	}
	if status == Hang && p.outage != Hang {
		p.release = make(chan struct{})
	}
	p.outage = status
}

// Calls returns how many requests reached endpoint "user" or
// "shared_servers", outages included.
func (p *PlexTV) Calls(endpoint string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[endpoint]
}

// TokenKind is what a Plex server learns from plex.tv about token:
// "account" (a known account's token), "share" (a share's access token) or
// "" (unknown). It fits Options.TokenKind.
func (p *PlexTV) TokenKind(token string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if token == "" {
		return ""
	}
	if _, ok := p.accounts[token]; ok {
		return "account"
	}
	for _, s := range p.shares {
		if s.AccessToken == token {
			return "share"
		}
	}
	return ""
}

// Handler serves plex.tv's endpoints.
func (p *PlexTV) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v2/user", p.withOutage("user", p.user))
	mux.HandleFunc("GET /api/servers/{machineIdentifier}/shared_servers", p.withOutage("shared_servers", p.sharedServers))
	return mux
}

// withOutage counts the call, then answers as the outage says or calls h.
func (p *PlexTV) withOutage(endpoint string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.calls[endpoint]++
		outage, release := p.outage, p.release
		p.mu.Unlock()
		switch {
		case outage == Hang:
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
		case outage == http.StatusTooManyRequests:
			w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds))
			http.Error(w, "Too Many Requests", outage)
			return
		case outage != Up:
			http.Error(w, http.StatusText(outage), outage)
			return
		}
		h(w, r)
	}
}

// requestToken is the X-Plex-Token of a request to plex.tv: the header, or
// else the query parameter.
func requestToken(r *http.Request) string {
	if t := r.Header.Get("X-Plex-Token"); t != "" {
		return t
	}
	return r.URL.Query().Get("X-Plex-Token")
}

// userJSON is the part of plex.tv's /api/v2/user answer that plexgate and
// the tools it follows read, plus a few fields they ignore.
type userJSON struct {
	ID               int    `json:"id"`
	UUID             string `json:"uuid"`
	Username         string `json:"username"`
	Title            string `json:"title"`
	Email            string `json:"email"`
	Thumb            string `json:"thumb"`
	AuthToken        string `json:"authToken"`
	TwoFactorEnabled *bool  `json:"twoFactorEnabled,omitempty"`
	Home             bool   `json:"home"`
	JoinedAt         int64  `json:"joinedAt"`
}

func (p *PlexTV) user(w http.ResponseWriter, r *http.Request) {
	tok := requestToken(r)
	p.mu.Lock()
	a, ok := p.accounts[tok]
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if tok == "" || !ok {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"errors":[{"code":1001,"message":"User could not be authenticated","status":401}]}`))
		return
	}
	_ = json.NewEncoder(w).Encode(userJSON{
		ID: a.ID, UUID: a.UUID, Username: a.Username, Title: a.Username, Email: a.Email,
		Thumb: "https://plex.tv/users/" + a.UUID + "/avatar", AuthToken: a.Token,
		TwoFactorEnabled: a.TwoFactorEnabled, Home: a.Token == p.owner.Token, JoinedAt: 1700000000,
	})
}

// sharedServersXML is the v1 MediaContainer of /api/servers/{id}/shared_servers.
type sharedServersXML struct {
	XMLName           xml.Name          `xml:"MediaContainer"`
	FriendlyName      string            `xml:"friendlyName,attr"`
	Identifier        string            `xml:"identifier,attr"`
	MachineIdentifier string            `xml:"machineIdentifier,attr"`
	Size              int               `xml:"size,attr"`
	Servers           []sharedServerXML `xml:"SharedServer"`
}

type sharedServerXML struct {
	ID          int    `xml:"id,attr"`
	Username    string `xml:"username,attr"`
	Email       string `xml:"email,attr"`
	UserID      int    `xml:"userID,attr"`
	AccessToken string `xml:"accessToken,attr"`
	Name        string `xml:"name,attr"`
	AcceptedAt  int64  `xml:"acceptedAt,attr"`
	InvitedAt   int64  `xml:"invitedAt,attr"`
	AllowSync   string `xml:"allowSync,attr"`
	Owned       string `xml:"owned,attr"`
	AllLibs     string `xml:"allLibraries,attr"`
}

func (p *PlexTV) sharedServers(w http.ResponseWriter, r *http.Request) {
	if requestToken(r) != p.owner.Token || p.owner.Token == "" {
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	}
	p.mu.Lock()
	if r.PathValue("machineIdentifier") != p.machineID {
		p.mu.Unlock()
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	out := sharedServersXML{FriendlyName: "myPlex", Identifier: "com.plexapp.plugins.myplex", MachineIdentifier: p.machineID}
	for i, s := range p.shares {
		out.Servers = append(out.Servers, sharedServerXML{
			ID: 1000 + i, Username: s.Friend.Username, Email: s.Friend.Email, UserID: s.Friend.ID,
			AccessToken: s.AccessToken, Name: "plexgate stand-in", AcceptedAt: time.Now().Add(-24 * time.Hour).Unix(),
			InvitedAt: time.Now().Add(-48 * time.Hour).Unix(), AllowSync: "0", Owned: "0", AllLibs: "1",
		})
	}
	p.mu.Unlock()
	out.Size = len(out.Servers)
	w.Header().Set("Content-Type", "text/xml;charset=utf-8")
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(out)
}
