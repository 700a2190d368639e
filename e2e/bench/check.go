package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/plexgate/plexgate/e2e/harness"
)

// routesReadyTimeout bounds the wait for Traefik to load the routes and
// the plugin after /ping answers.
const routesReadyTimeout = 60 * time.Second

// probe is one sanity request and what it must get.
type probe struct {
	route             Route
	token, forgedUser string
	wantStatus        int // 0: anything but 200
	wantUser          string
}

// check proves, before anything is measured, that every route answers
// through Traefik as it should: the gates pass the session's identity,
// drop a forged one, and refuse a request without a session.
func (r *rig) check(ctx context.Context) error {
	if err := r.awaitRoutes(ctx); err != nil {
		return err
	}
	for _, p := range r.probes() {
		status, user, err := r.whoami(ctx, p.route, p.token, p.forgedUser)
		if err != nil {
			return err
		}
		okStatus := status == p.wantStatus || p.wantStatus == 0 && status != http.StatusOK
		if !okStatus || status == http.StatusOK && user != p.wantUser {
			return fmt.Errorf("bench: sanity check failed on route %d (%s), session %t, forged user %q: got %d user %q, want %s user %q",
				p.route.ID, p.route.Name, p.token != "", p.forgedUser, status, user, statusText(p.wantStatus), p.wantUser)
		}
	}
	return nil
}

func statusText(s int) string {
	if s == 0 {
		return "a refusal"
	}
	return fmt.Sprint(s)
}

// probes lists the sanity requests.
func (r *rig) probes() []probe {
	user := func(n int) string { return fmt.Sprintf("user%d@%s", n, harness.Domain) }
	var ps []probe
	for _, rt := range Routes {
		if rt.Plex != "" {
			ps = append(ps,
				probe{route: rt, token: r.plexToken, wantStatus: 200, wantUser: r.plexUser},
				probe{route: rt, wantStatus: 0},
				probe{route: rt, token: "not-a-plex-token-0000", wantStatus: 0},
				probe{route: rt, token: r.plexToken, forgedUser: "mallory@" + harness.Domain, wantStatus: 200, wantUser: r.plexUser})
			continue
		}
		gated := rt.ID >= 2 && rt.ID <= 5 || rt.ID == 10
		want := ""
		if gated {
			want = user(0)
		}
		ps = append(ps, probe{route: rt, token: r.hit, wantStatus: 200, wantUser: want})
		if gated {
			ps = append(ps,
				probe{route: rt, wantStatus: 0},
				probe{route: rt, token: r.hit, forgedUser: "mallory@" + harness.Domain, wantStatus: 200, wantUser: want},
				probe{route: rt, token: r.misses[0], wantStatus: 200, wantUser: user(1)})
		}
	}
	return ps
}

// awaitRoutes waits until route 1 answers 200 and route 2 does too (the
// plugin has loaded).
func (r *rig) awaitRoutes(ctx context.Context) error {
	deadline := time.Now().Add(routesReadyTimeout)
	for {
		s1, _, err1 := r.whoami(ctx, Routes[0], r.hit, "")
		s2, _, err2 := r.whoami(ctx, Routes[1], r.hit, "")
		if err1 == nil && err2 == nil && s1 == 200 && s2 == 200 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("bench: routes not ready within %s (route 1: %d %v, route 2: %d %v); see %s",
				routesReadyTimeout, s1, err1, s2, err2, r.traefik.Process().LogPath())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// whoami asks the upstream's /whoami through route rt.
func (r *rig) whoami(ctx context.Context, rt Route, token, forgedUser string) (int, string, error) {
	target := "/whoami"
	if rt.Plex == "query" && token != "" {
		target += "?" + plexWebQuery + token
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+r.addr+target, nil)
	if err != nil {
		return 0, "", err
	}
	req.Host = rt.Host()
	switch {
	case token == "" || rt.Plex == "query":
	case rt.Plex == "header":
		req.Header.Set("X-Plex-Token", token)
	default:
		req.Header.Set("Cookie", harness.CookieName+"="+token)
	}
	if forgedUser != "" {
		req.Header.Set("X-Forwarded-User", forgedUser)
	}
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("bench: route %d: %w", rt.ID, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return 0, "", fmt.Errorf("bench: route %d: %w", rt.ID, err)
	}
	user, _ := strings.CutPrefix(strings.TrimSpace(string(body)), "user=")
	return resp.StatusCode, user, nil
}
