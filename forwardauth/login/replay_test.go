package login

import (
	"fmt"
	"testing"
	"time"

	"github.com/plexgate/plexgate/forwardauth/session"
)

func TestUsedStatesStayBoundedAndCatchReplays(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	u := NewUsedStates(100)
	for i := 0; i < 1000; i++ {
		if !u.Add(fmt.Sprint("s", i), now.Add(session.StateTTL+time.Duration(i)*time.Millisecond), now) {
			t.Fatalf("fresh state %d refused", i)
		}
	}
	if n := u.len(); n != 100 {
		t.Fatalf("%d states remembered, want the bound 100", n)
	}
	if u.Add("s999", now.Add(session.StateTTL), now) {
		t.Fatal("a replay of a recent state was accepted")
	}
	if !u.Add("s0", now.Add(session.StateTTL), now) {
		t.Fatal("the state evicted first (closest to expiry) should have been forgotten")
	}
	later := now.Add(session.StateTTL + time.Hour)
	if !u.Add("new", later.Add(session.StateTTL), later) || u.len() != 1 {
		t.Fatalf("expired states not dropped: %d remembered", u.len())
	}
}
