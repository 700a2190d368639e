package login

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/plexgate/plexgate/forwardauth/config"
)

// retryInterval is the least time between two discovery attempts.
const retryInterval = 5 * time.Second

// Provider is the OpenID provider, discovered lazily: forwardauth starts and
// serves /validate while the provider is unreachable, and retries discovery
// on demand at most once per retryInterval.
type Provider struct {
	issuer      string
	oauth       oauth2.Config // Endpoint filled after discovery
	useUserinfo bool
	client      *http.Client
	now         func() time.Time
	log         *slog.Logger

	mu        sync.Mutex
	ready     *Discovered
	lastTry   time.Time
	lastError error
}

// NewProvider returns the provider of cfg (oidc.issuer, oidc.client_id,
// oidc.scopes, oidc.use_userinfo) for this client, whose callback is
// redirectURL; secret is the client secret. It discovers nothing yet.
// client is used towards the provider (NewHTTPClient); now nil means
// time.Now.
func NewProvider(cfg config.OIDCConfig, secret []byte, redirectURL string, client *http.Client, now func() time.Time, log *slog.Logger) *Provider {
	if now == nil {
		now = time.Now
	}
	return &Provider{issuer: cfg.Issuer, client: client, now: now, log: log, useUserinfo: cfg.UseUserinfo,
		oauth: oauth2.Config{ClientID: cfg.ClientID, ClientSecret: string(secret),
			RedirectURL: redirectURL, Scopes: cfg.Scopes}}
}

// Discovered is the result of a successful discovery.
type Discovered struct {
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
	p        *oidc.Provider
	// EndSession is the provider's end_session_endpoint, "" when it has none.
	EndSession string
}

// AuthCodeURL is the provider's authorization URL for one login attempt:
// the code flow with state, the PKCE S256 challenge of verifier, and nonce.
func (d *Discovered) AuthCodeURL(state, verifier, nonce string) string {
	return d.oauth.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce))
}

var errNotDiscovered = errors.New("oidc: provider not reachable yet")

// NewHTTPClient returns the client used towards the provider, trusting
// caFile in addition to the system roots when set.
func NewHTTPClient(caFile string) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if caFile != "" {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		pemData, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("oidc: ca_file: %w", err)
		}
		if !pool.AppendCertsFromPEM(pemData) {
			return nil, fmt.Errorf("oidc: ca_file %s: no certificates", caFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: 15 * time.Second}, nil
}

// ctx attaches the provider HTTP client for go-oidc and x/oauth2.
func (p *Provider) ctx(parent context.Context) context.Context {
	return context.WithValue(oidc.ClientContext(parent, p.client), oauth2.HTTPClient, p.client)
}

// Get returns the discovered provider, trying discovery when it has not
// succeeded yet and the last attempt is older than retryInterval.
func (p *Provider) Get(ctx context.Context) (*Discovered, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ready != nil {
		return p.ready, nil
	}
	if !p.lastTry.IsZero() && p.now().Sub(p.lastTry) < retryInterval {
		return nil, fmt.Errorf("%w: %w", errNotDiscovered, p.lastError)
	}
	p.lastTry = p.now()
	// A client that goes away must not cost everyone a retry interval.
	d, err := p.discover(context.WithoutCancel(ctx))
	if err != nil {
		p.lastError = err
		p.log.Warn("oidc discovery failed", "issuer", p.issuer, "err", err)
		return nil, fmt.Errorf("%w: %w", errNotDiscovered, err)
	}
	p.log.Info("oidc provider discovered", "issuer", p.issuer)
	p.ready = d
	return d, nil
}

func (p *Provider) discover(ctx context.Context) (*Discovered, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	op, err := oidc.NewProvider(p.ctx(ctx), p.issuer)
	if err != nil {
		return nil, fmt.Errorf("oidc: discovery: %w", err)
	}
	var extra struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := op.Claims(&extra); err != nil {
		return nil, fmt.Errorf("oidc: discovery document: %w", err)
	}
	oc := p.oauth
	oc.Endpoint = op.Endpoint()
	v := op.Verifier(&oidc.Config{ClientID: oc.ClientID, Now: p.now})
	return &Discovered{oauth: oc, verifier: v, p: op, EndSession: extra.EndSession}, nil
}
