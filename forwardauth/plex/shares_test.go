package plex

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestFriendShareToken(t *testing.T) {
	e := newEnv(t, Options{OwnerToken: ownerTok, Policy: testPolicy{friends: true}})
	v := e.verify(t, bobShare)
	if v.Outcome != Allowed || v.Identity.Kind != KindShare || v.Identity.ID != 2002 || v.Identity.Username != "bob" ||
		v.Identity.Email != "bob@example.com" || !v.Identity.Friend || v.Identity.Owner {
		t.Fatalf("verdict = %+v", v)
	}
	if e.pms.calls["/identity"] != 1 || e.tv.count("/api/servers/mid-1/shared_servers") != 1 {
		t.Fatalf("identity %d, shared_servers %d calls; want 1 each", e.pms.calls["/identity"], e.tv.count("/api/servers/mid-1/shared_servers"))
	}
	if got := e.tv.last["/api/servers/mid-1/shared_servers"].Get(TokenParam); got != ownerTok {
		t.Fatal("shared_servers was not read with the owner token")
	}
}

func TestFriendShareTokenWithoutPlexFriendsIsDenied(t *testing.T) {
	e := newEnv(t, Options{OwnerToken: ownerTok, Policy: testPolicy{users: []string{"alice"}}})
	if v := e.verify(t, bobShare); v.Outcome != Denied || v.Reason != "not listed" {
		t.Fatalf("verdict = %+v, want Denied", v)
	}
	e2 := newEnv(t, Options{OwnerToken: ownerTok, Policy: testPolicy{users: []string{"BOB@example.com"}}})
	if v := e2.verify(t, bobShare); v.Outcome != Allowed {
		t.Fatalf("friend listed by email: %+v, want Allowed", v)
	}
}

func TestFriendAccountTokenNeedsPlexFriends(t *testing.T) {
	e := newEnv(t, Options{OwnerToken: ownerTok, ServerID: "mid-1", Policy: testPolicy{friends: true}})
	if v := e.verify(t, bobTok); v.Outcome != Allowed || !v.Identity.Friend || v.Identity.Kind != KindAccount {
		t.Fatalf("bob's account token: %+v", v)
	}
	if v := e.verify(t, carolTok); v.Outcome != Denied {
		t.Fatalf("carol, not a friend: %+v", v)
	}
	if e.pms.calls["/identity"] != 0 {
		t.Fatal("/identity read although server_id is set")
	}
}

func TestSharedServersRefreshAtMostOncePerInterval(t *testing.T) {
	e := newEnv(t, Options{OwnerToken: ownerTok, ServerID: "mid-1", Policy: testPolicy{friends: true}, RefreshInterval: 5 * time.Minute})
	const path = "/api/servers/mid-1/shared_servers"
	e.verify(t, bobShare)
	for i := range 5 {
		if v := e.verify(t, fmt.Sprintf("unknownToken%08d", i)); v.Outcome != Invalid {
			t.Fatalf("unknown token: %+v", v)
		}
	}
	if got := e.tv.count(path); got != 1 {
		t.Fatalf("shared_servers read %d times within the interval, want 1", got)
	}
	newShare := "newFriendShareTokenI"
	e.tv.set(func(f *fakeTV) {
		f.sharesXML = strings.Replace(sharesXML, "</MediaContainer>",
			`<SharedServer id="502" username="dave" email="dave@example.com" userID="5005" accessToken="`+newShare+`"/></MediaContainer>`, 1)
	})
	if v := e.verify(t, newShare); v.Outcome != Invalid {
		t.Fatalf("a share added within the interval is seen at once: %+v", v)
	}
	e.clock.Advance(5 * time.Minute)
	if v := e.verify(t, newShare+"x"); v.Outcome != Invalid {
		t.Fatal("unexpected verdict")
	}
	e.clock.Advance(time.Minute) // the invalid verdict for newShare expired
	if v := e.verify(t, newShare); v.Outcome != Allowed || v.Identity.Username != "dave" {
		t.Fatalf("new friend after the interval: %+v", v)
	}
	if got := e.tv.count(path); got != 2 {
		t.Fatalf("shared_servers read %d times, want 2", got)
	}
}

func TestSharedServersOneLoadAtATime(t *testing.T) {
	e := newEnv(t, Options{OwnerToken: ownerTok, ServerID: "mid-1", Policy: testPolicy{friends: true}})
	release, entered := make(chan struct{}), make(chan string, 20)
	e.tv.set(func(f *fakeTV) { f.block, f.blockPath, f.entered = release, "/shared_servers", entered })
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() { _, _ = e.v.Verify(context.Background(), fmt.Sprintf("unknownToken%08d", i)) })
	}
	wg.Go(func() { _, _ = e.v.Verify(context.Background(), bobShare) })
	for p := range entered {
		if strings.HasSuffix(p, "/shared_servers") {
			break
		}
	}
	close(release)
	wg.Wait()
	if got := e.tv.count("/api/servers/mid-1/shared_servers"); got != 1 {
		t.Fatalf("shared_servers read %d times, want 1", got)
	}
	if v, ok := e.v.Cached(bobShare); !ok || v.Outcome != Allowed {
		t.Fatalf("bob's share token: %+v", v)
	}
}

func TestSharedServersTroubleIsUnavailableNotInvalid(t *testing.T) {
	for _, status := range []int{http.StatusInternalServerError, http.StatusUnauthorized, http.StatusNotFound} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			e := newEnv(t, Options{OwnerToken: ownerTok, ServerID: "mid-1", Policy: testPolicy{friends: true}})
			e.tv.set(func(f *fakeTV) { f.sharesStatus = status })
			// bob's tokens and an unknown one cannot be told apart without
			// the list; nor can carol be refused, since plex_friends asks.
			for _, tok := range []string{bobShare, bobTok, "unknownTokenGGGGGGGG", carolTok} {
				if v, err := e.v.Verify(context.Background(), tok); !errors.Is(err, ErrUnavailable) {
					t.Errorf("%s: %+v, %v; want ErrUnavailable", tok[:6], v, err)
				}
			}
		})
	}
}

func TestWithoutOwnerTokenShareTokensAreInvalid(t *testing.T) {
	e := newEnv(t, Options{Policy: testPolicy{users: []string{"bob"}}})
	if v := e.verify(t, bobShare); v.Outcome != Invalid {
		t.Fatalf("verdict %+v, want Invalid", v)
	}
}

func TestMachineIdentifierTrouble(t *testing.T) {
	e := newEnv(t, Options{OwnerToken: ownerTok, Policy: testPolicy{friends: true}})
	e.pms.status = http.StatusInternalServerError
	if _, err := e.v.Verify(context.Background(), bobShare); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("/identity failing: %v, want ErrUnavailable", err)
	}
	if e.tv.count("/api/servers/mid-1/shared_servers") != 0 {
		t.Fatal("shared_servers read without a machine identifier")
	}
	none := newEnv(t, Options{ServerURL: "-", OwnerToken: ownerTok, Policy: testPolicy{friends: true}})
	if _, err := none.v.Verify(context.Background(), bobShare); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("no server_id, no server_url: %v, want ErrUnavailable", err)
	}
}

func TestFailedSharedServersLoadIsNotRetriedAtOnce(t *testing.T) {
	e := newEnv(t, Options{OwnerToken: ownerTok, ServerID: "mid-1", Policy: testPolicy{friends: true}})
	const path = "/api/servers/mid-1/shared_servers"
	e.tv.set(func(f *fakeTV) { f.sharesStatus = http.StatusNotFound }) // no back-off for a 404
	for i := range 3 {
		if _, err := e.v.Verify(context.Background(), fmt.Sprintf("unknownToken%08d", i)); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("unknown token %d: %v", i, err)
		}
	}
	if got := e.tv.count(path); got != 1 {
		t.Fatalf("shared_servers read %d times within %s of a failure, want 1", got, retryFailedLoad)
	}
	e.tv.set(func(f *fakeTV) { f.sharesStatus = 0 })
	e.clock.Advance(retryFailedLoad)
	if v := e.verify(t, bobShare); v.Outcome != Allowed {
		t.Fatalf("after the retry delay: %+v", v)
	}
	if got := e.tv.count(path); got != 2 {
		t.Fatalf("shared_servers read %d times, want 2", got)
	}
}
