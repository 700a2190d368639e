// Package login is forwardauth's OpenID Connect login: lazy provider
// discovery (Provider), the authorization code exchange with PKCE and the
// ID-token checks go-oidc leaves to the client (nonce, azp, at_hash), the
// userinfo merge, and the set of used login states that catches replays.
// It knows nothing of HTTP handlers or cookies: package handler drives it.
package login

import (
	"container/heap"
	"errors"
	"sync"
	"time"
)

// MaxUsedStates bounds how many consumed login states are remembered
// against replay. A state token lives session.StateTTL (10 minutes), so the bound
// covers about 160 sign-ins a second; beyond it the state closest to its
// own expiry is forgotten first.
const MaxUsedStates = 100_000

// ErrStateUsed reports a replayed login state.
var ErrStateUsed = errors.New("state: already used")

// UsedStates remembers consumed login states until their tokens expire.
// It is bounded (max entries), and each call costs O(log n): expired states
// leave from the top of a heap ordered by expiry, never by a full scan.
type UsedStates struct {
	max int

	mu    sync.Mutex
	seen  map[string]bool
	order expiryHeap
}

// NewUsedStates returns an empty set remembering at most maxEntries states.
func NewUsedStates(maxEntries int) *UsedStates {
	return &UsedStates{max: maxEntries, seen: map[string]bool{}}
}

// Add records state as used until exp and reports false when it was
// already recorded (a replay).
func (u *UsedStates) Add(state string, exp, now time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	for len(u.order) > 0 && !now.Before(u.order[0].exp) {
		delete(u.seen, heap.Pop(&u.order).(usedState).state)
	}
	if u.seen[state] {
		return false
	}
	for len(u.order) >= u.max {
		delete(u.seen, heap.Pop(&u.order).(usedState).state)
	}
	u.seen[state] = true
	heap.Push(&u.order, usedState{state: state, exp: exp})
	return true
}

// len returns how many states are remembered.
func (u *UsedStates) len() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.seen)
}

// usedState is one remembered state and its token's expiry.
type usedState struct {
	state string
	exp   time.Time
}

// expiryHeap is a min-heap of used states by expiry (container/heap).
type expiryHeap []usedState

func (h expiryHeap) Len() int           { return len(h) }
func (h expiryHeap) Less(i, j int) bool { return h[i].exp.Before(h[j].exp) }
func (h expiryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expiryHeap) Push(x any)        { *h = append(*h, x.(usedState)) }
func (h *expiryHeap) Pop() any {
	old := *h
	last := old[len(old)-1]
	*h = old[:len(old)-1]
	return last
}
