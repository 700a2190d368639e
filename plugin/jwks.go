package plugin

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// maxJWKSBytes bounds a fetched key set.
const maxJWKSBytes = 1 << 20

// jwk is the part of a JSON Web Key the plugin reads.
type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid"`
	Use string `json:"use"`
}

// jwkSet is a JSON Web Key Set.
type jwkSet struct {
	Keys []jwk `json:"keys"`
}

// thumbprint returns the RFC 7638 thumbprint of an Ed25519 public key,
// base64url without padding: the key id both sides compute.
func thumbprint(pub []byte) string {
	x := base64.RawURLEncoding.EncodeToString(pub)
	sum := sha256.Sum256([]byte(`{"crv":"Ed25519","kty":"OKP","x":"` + x + `"}`))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// addKey stores pub under its thumbprint and, when given and different,
// under kid.
func addKey(keys map[string][]byte, pub []byte, kid string) {
	keys[thumbprint(pub)] = pub
	if kid != "" {
		keys[kid] = pub
	}
}

// parsePublicKeys reads PEM "PUBLIC KEY" blocks, or one JWK or JWK Set as
// JSON. An empty string gives no keys.
func parsePublicKeys(raw string) (map[string][]byte, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, nil
	}
	keys := make(map[string][]byte)
	if strings.HasPrefix(raw, "{") {
		if err := parseJWKJSON(keys, []byte(raw)); err != nil {
			return nil, err
		}
		return keys, nil
	}
	rest := []byte(raw)
	for {
		block, next := pem.Decode(rest)
		if block == nil {
			break
		}
		rest = next
		pub, err := parsePEMKey(block)
		if err != nil {
			return nil, err
		}
		addKey(keys, pub, "")
	}
	if len(keys) == 0 || strings.TrimSpace(string(rest)) != "" {
		return nil, errors.New("want PEM \"PUBLIC KEY\" blocks or a JWK/JWKS JSON document")
	}
	return keys, nil
}

func parsePEMKey(block *pem.Block) ([]byte, error) {
	if block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("PEM block %q is not a PUBLIC KEY", block.Type)
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("PEM public key: %w", err)
	}
	pub, ok := key.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("PEM public key is %T, want Ed25519", key)
	}
	return []byte(pub), nil
}

// parseJWKJSON adds the Ed25519 keys of a JWK or a JWK Set to keys. Keys of
// other types, or marked for encryption, are skipped; a set without any
// usable key is an error.
func parseJWKJSON(keys map[string][]byte, raw []byte) error {
	var set jwkSet
	if err := json.Unmarshal(raw, &set); err != nil {
		return fmt.Errorf("JWK JSON: %w", err)
	}
	if set.Keys == nil {
		var one jwk
		if err := json.Unmarshal(raw, &one); err != nil {
			return fmt.Errorf("JWK JSON: %w", err)
		}
		set.Keys = []jwk{one}
	}
	for _, k := range set.Keys {
		if k.Kty != "OKP" || k.Crv != "Ed25519" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		pub, err := base64.RawURLEncoding.DecodeString(k.X)
		if err != nil || len(pub) != ed25519.PublicKeySize {
			return fmt.Errorf("JWK %q: x is not a base64url Ed25519 public key", k.Kid)
		}
		addKey(keys, pub, k.Kid)
	}
	if len(keys) == 0 {
		return errors.New("JWK JSON holds no Ed25519 signing key")
	}
	return nil
}

// keySet holds the inline keys and those fetched from forwardauth's JWKS.
// The JWKS is fetched on the request path, when a token names an unknown
// key id and when a fetched key is asked for while the fetched copy is
// older than maxAge: one fetch at a time, at most once per interval. No
// goroutine is ever started. A fetch replaces the fetched keys, so a key
// forwardauth no longer publishes stops verifying; a failed fetch keeps them.
type keySet struct {
	inline   map[string][]byte // never dropped
	url      string            // "": never fetch
	interval time.Duration
	maxAge   time.Duration
	client   *http.Client
	now      func() time.Time
	log      *slog.Logger
	// dropped, when set, is called with the key ids a fetch dropped, before
	// waiting requests look again (the middleware forgets what they verified).
	dropped func(kids map[string]bool)

	mu        sync.Mutex
	fetched   map[string][]byte
	lastFetch time.Time     // last attempt
	fetchedAt time.Time     // last success: the age of fetched
	inflight  chan struct{} // closed when the running fetch ends
}

// key returns the key with id kid, fetching the JWKS when kid is unknown or
// the fetched copy is too old, and a fetch is allowed. While a fetch runs,
// a request for an unknown kid waits for it; one for a known kid does not.
// It returns nil when the key stays unknown.
func (s *keySet) key(ctx context.Context, kid string) []byte {
	for attempt := 0; attempt < 2; attempt++ {
		s.mu.Lock()
		if k, ok := s.inline[kid]; ok || s.url == "" {
			s.mu.Unlock()
			return k
		}
		k := s.fetched[kid]
		wait := s.inflight
		now := s.now()
		if k == nil && wait != nil {
			s.mu.Unlock()
			select {
			case <-wait:
				continue // look again, with the fresh keys
			case <-ctx.Done():
				return nil
			}
		}
		fresh := k != nil && now.Sub(s.fetchedAt) < s.maxAge
		recent := !s.lastFetch.IsZero() && now.Sub(s.lastFetch) < s.interval
		if wait != nil || fresh || recent {
			s.mu.Unlock()
			return k // in use while it is re-read, fresh, or fetched recently
		}
		done := make(chan struct{})
		s.inflight = done
		s.lastFetch = now
		s.mu.Unlock()
		// The fetch serves every waiter: one client going away must not
		// cancel it (the client timeout still bounds it).
		s.refresh(context.WithoutCancel(ctx), done, now)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lookupLocked(kid)
}

func (s *keySet) lookupLocked(kid string) []byte {
	if k, ok := s.inline[kid]; ok {
		return k
	}
	return s.fetched[kid]
}

// trustedUntil returns, in Unix nanoseconds, until when an answer verified
// with key kid ("" for a token without one) may be cached: the moment the
// key set may next be re-read, max(fetched + maxAge, last attempt +
// interval). It is 0 (no bound) for an inline key, or when nothing was
// fetched and so only inline keys can have verified.
func (s *keySet) trustedUntil(kid string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.inline[kid]; ok || len(s.fetched) == 0 {
		return 0
	}
	until := s.fetchedAt.Add(s.maxAge)
	if retry := s.lastFetch.Add(s.interval); retry.After(until) {
		until = retry
	}
	return until.UnixNano()
}

// refresh fetches the JWKS, replaces the fetched keys when it succeeds
// (reporting the dropped ones), and closes done. started is when the fetch
// began: the new copy's age counts from then.
func (s *keySet) refresh(ctx context.Context, done chan struct{}, started time.Time) {
	keys, err := s.fetch(ctx)
	var gone map[string]bool
	s.mu.Lock()
	before := len(s.fetched)
	if err == nil {
		gone = droppedKeys(s.fetched, keys)
		s.fetched = keys
		s.fetchedAt = started
	}
	s.inflight = nil
	s.mu.Unlock()
	if len(gone) > 0 && s.dropped != nil {
		s.dropped(gone)
	}
	close(done)
	switch {
	case err != nil:
		s.log.Warn("jwks fetch failed, keeping the keys fetched before", "keys", before, "error", err.Error())
	case len(gone) > 0 || len(keys) != before:
		s.log.Info("jwks refreshed", "keys", len(keys), "dropped", len(gone))
	default:
		s.log.Debug("jwks re-read, unchanged", "keys", len(keys))
	}
}

// droppedKeys returns the key ids in old that are not in fresh with the
// same key.
func droppedKeys(old, fresh map[string][]byte) map[string]bool {
	gone := make(map[string]bool)
	for kid, k := range old {
		if !bytes.Equal(fresh[kid], k) {
			gone[kid] = true
		}
	}
	return gone
}

func (s *keySet) fetch(ctx context.Context) (map[string][]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, fmt.Errorf("plexgate: jwks: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("plexgate: jwks: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("plexgate: jwks: %s answered %d", s.url, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes))
	if err != nil {
		return nil, fmt.Errorf("plexgate: jwks: %w", err)
	}
	keys := make(map[string][]byte)
	if err := parseJWKJSON(keys, body); err != nil {
		return nil, fmt.Errorf("plexgate: jwks: %w", err)
	}
	return keys, nil
}
