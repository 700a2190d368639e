package plex

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Options configure a Verifier. The zero value of every field but Policy
// has a default; see each field.
type Options struct {
	// APIURL is plex.tv's base URL. Default "https://plex.tv".
	APIURL string
	// ServerURL is the Plex server's base URL, for its machine identifier
	// (when ServerID is empty) and for transient tokens. Default "": then
	// transient tokens are not valid and ServerID is required for friends.
	ServerURL string
	// ServerID is the server's machineIdentifier. Default "": read from
	// ServerURL's /identity when first needed.
	ServerID string
	// OwnerToken is the server owner's plex.tv token. It tells the owner's
	// account apart and reads shared_servers. Default "": then no request
	// counts as the owner's and share tokens are not recognised.
	OwnerToken string
	// ClientIdentifier is the X-Plex-Client-Identifier sent to plex.tv and
	// the Plex server; keep it stable. Default "plexgate-forwardauth".
	ClientIdentifier string
	// Policy decides who is allowed (forwardauth/authz.PlexRules). Required.
	Policy Policy
	// CacheTTL is how long an allowed verdict is kept. Default 10m.
	CacheTTL time.Duration
	// DeniedTTL is how long a denied or invalid verdict is kept. Default 1m.
	DeniedTTL time.Duration
	// TransientTTL is how long an allowed transient token is kept (at most
	// CacheTTL). Default 1m.
	TransientTTL time.Duration
	// RefreshInterval is the least time between two shared_servers loads. Default 5m.
	RefreshInterval time.Duration
	// MaxEntries bounds the verdict cache. Default 10000.
	MaxEntries int
	// HTTPClient sends the requests; it is copied and never follows
	// redirects. Default: a client with a 10s timeout.
	HTTPClient *http.Client
	// Logger receives events (never a token). Default: discard.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Outcome is what a Verdict says.
type Outcome int

const (
	// Allowed: the token is valid and a rule allows its holder.
	Allowed Outcome = iota + 1
	// Denied: the token is valid but no rule allows its holder (403).
	Denied
	// Invalid: plex.tv or the Plex server said the token is not valid (401).
	Invalid
)

// Verdict is the answer for one token.
type Verdict struct {
	Outcome  Outcome
	Identity Identity // zero for Invalid
	Reason   string   // why Denied; shown to people, holds no values
	Until    time.Time
}

// MaxAge is how much longer the verdict may be cached, in whole seconds.
func (v Verdict) MaxAge(now time.Time) time.Duration {
	return max(v.Until.Sub(now), 0).Truncate(time.Second)
}

// Verifier verifies Plex tokens and caches its verdicts. It is safe for
// concurrent use and starts no goroutines.
type Verifier struct {
	opts   Options
	policy Policy
	client *client
	cache  *verdictCache
	shares *shareBook // nil without an owner token
	log    *slog.Logger

	mu        sync.Mutex
	ownerID   int64 // 0: not known yet
	machineID string
}

// New checks o and returns a Verifier.
func New(o Options) (*Verifier, error) {
	o = withDefaults(o)
	if err := checkURL("api_url", o.APIURL, true); err != nil {
		return nil, err
	}
	if err := checkURL("server_url", o.ServerURL, false); err != nil {
		return nil, err
	}
	if o.Policy == nil {
		return nil, errors.New("plex: no policy")
	}
	v := &Verifier{opts: o, policy: o.Policy, log: o.Logger, machineID: o.ServerID,
		client: newClient(o.APIURL, o.ServerURL, o.ClientIdentifier, o.HTTPClient, o.Now, o.Logger),
		cache:  newVerdictCache(o.MaxEntries, o.Now)}
	if o.OwnerToken != "" {
		v.shares = newShareBook(o.RefreshInterval, o.Now, o.Logger, v.loadShares)
	}
	return v, nil
}

func withDefaults(o Options) Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if o.APIURL == "" {
		o.APIURL = "https://plex.tv"
	}
	if o.ClientIdentifier == "" {
		o.ClientIdentifier = "plexgate-forwardauth"
	}
	def(&o.CacheTTL, 10*time.Minute)
	def(&o.DeniedTTL, time.Minute)
	def(&o.TransientTTL, time.Minute)
	def(&o.RefreshInterval, 5*time.Minute)
	o.TransientTTL = min(o.TransientTTL, o.CacheTTL)
	if o.MaxEntries <= 0 {
		o.MaxEntries = 10000
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

func checkURL(key, raw string, required bool) error {
	if raw == "" && !required {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" {
		return fmt.Errorf("plex: %s %q must be an absolute http(s) URL without query", key, raw)
	}
	return nil
}

// Cached returns the cached verdict for token, if any, without asking anyone.
func (v *Verifier) Cached(token string) (Verdict, bool) {
	return v.cache.get(sha256.Sum256([]byte(token)))
}

// Verify returns the verdict for token: from the cache, else from plex.tv
// or the Plex server (one verification per token at a time). The error is
// ErrUnavailable (wrapped) when no verdict could be had; nothing is cached then.
func (v *Verifier) Verify(ctx context.Context, token string) (Verdict, error) {
	key := sha256.Sum256([]byte(token))
	return v.cache.do(ctx, key, func(ctx context.Context) (Verdict, error) {
		id, err := v.identify(ctx, token, key)
		now := v.opts.Now()
		switch {
		case errors.Is(err, ErrInvalid):
			return Verdict{Outcome: Invalid, Until: now.Add(v.opts.DeniedTTL)}, nil
		case err != nil:
			return Verdict{}, err
		}
		if ok, reason := v.policy.Decide(id); !ok {
			return Verdict{Outcome: Denied, Identity: id, Reason: reason, Until: now.Add(v.opts.DeniedTTL)}, nil
		}
		ttl := v.opts.CacheTTL
		switch {
		case id.Kind == KindTransient:
			ttl = v.opts.TransientTTL
		case id.ownerUnknown:
			ttl = v.opts.DeniedTTL // soon ask again who the owner is
		}
		return Verdict{Outcome: Allowed, Identity: id, Until: now.Add(ttl)}, nil
	})
}

// identify finds out who holds token; ErrInvalid when nobody does.
func (v *Verifier) identify(ctx context.Context, token string, key [32]byte) (Identity, error) {
	if strings.HasPrefix(token, "transient-") {
		return v.transient(ctx, token)
	}
	if v.shares != nil {
		if s, ok := v.shares.peek(key); ok {
			return shareIdentity(s), nil
		}
	}
	a, err := v.client.account(ctx, token)
	switch {
	case errors.Is(err, ErrInvalid):
		return v.shareToken(ctx, key)
	case err != nil:
		return Identity{}, err
	}
	id := Identity{Kind: KindAccount, ID: a.ID, UUID: a.UUID, Username: a.Username, Email: a.Email, TwoFactor: a.TwoFactorEnabled}
	id.Owner, err = v.isOwner(ctx, token, a.ID)
	id.ownerUnknown = err != nil
	if v.policy.NeedsFriendship(id) && v.shares != nil {
		_, id.Friend, err = v.shares.user(ctx, a.ID)
		return id, err
	}
	return id, nil
}

// shareToken looks a token plex.tv did not know up in shared_servers.
func (v *Verifier) shareToken(ctx context.Context, key [32]byte) (Identity, error) {
	if v.shares == nil {
		return Identity{}, ErrInvalid
	}
	s, ok, err := v.shares.token(ctx, key)
	switch {
	case err != nil:
		return Identity{}, err // cannot tell an unknown share token from an invalid one
	case !ok:
		return Identity{}, ErrInvalid
	}
	return shareIdentity(s), nil
}

func shareIdentity(s Share) Identity {
	return Identity{Kind: KindShare, ID: s.UserID, Username: s.Username, Email: s.Email, Friend: true}
}

// transient asks the Plex server about a transient token.
func (v *Verifier) transient(ctx context.Context, token string) (Identity, error) {
	if v.opts.ServerURL == "" {
		return Identity{}, ErrInvalid
	}
	if err := v.client.serverAccepts(ctx, token); err != nil {
		return Identity{}, err
	}
	return Identity{Kind: KindTransient}, nil
}

// isOwner reports whether account id is the owner's, learning the owner's
// account id from plex.tv the first time.
func (v *Verifier) isOwner(ctx context.Context, token string, id int64) (bool, error) {
	if v.opts.OwnerToken == "" {
		return false, nil
	}
	if subtle.ConstantTimeCompare([]byte(token), []byte(v.opts.OwnerToken)) == 1 {
		v.setOwner(id)
		return true, nil
	}
	v.mu.Lock()
	owner := v.ownerID
	v.mu.Unlock()
	if owner == 0 {
		a, err := v.client.account(ctx, v.opts.OwnerToken)
		if err != nil {
			v.log.Error("plex: the owner's account is unknown: plex.tv did not accept owner_token_file", "err", err)
			return false, errOwnerUnknown
		}
		v.setOwner(a.ID)
		owner = a.ID
	}
	return id == owner, nil
}

// errOwnerUnknown means the owner's account id could not be learnt: the
// identity is then not the owner's, and its verdict is kept only DeniedTTL.
var errOwnerUnknown = errors.New("plex: owner account unknown")

func (v *Verifier) setOwner(id int64) {
	v.mu.Lock()
	v.ownerID = id
	v.mu.Unlock()
}

// loadShares reads shared_servers, learning the machine identifier first
// when it is not configured.
func (v *Verifier) loadShares(ctx context.Context) ([]Share, error) {
	v.mu.Lock()
	mid := v.machineID
	v.mu.Unlock()
	if mid == "" {
		if v.opts.ServerURL == "" {
			return nil, fmt.Errorf("%w: no server_id and no server_url", ErrUnavailable)
		}
		var err error
		if mid, err = v.client.machineID(ctx); err != nil {
			return nil, err
		}
		v.mu.Lock()
		v.machineID = mid
		v.mu.Unlock()
	}
	return v.client.shares(ctx, v.opts.OwnerToken, mid)
}
