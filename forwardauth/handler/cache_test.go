package handler

import (
	"strings"
	"testing"
	"time"

	"github.com/plexgate/plexgate/forwardauth/session"
)

func TestTokenCacheStaysBounded(t *testing.T) {
	now := time.Now()
	c := newTokenCache(100, func() time.Time { return now })
	for i := 0; i < 1000; i++ {
		claims := &session.Claims{}
		claims.ExpiresAt = jwtDate(now.Add(time.Hour))
		c.put(strings.Repeat("x", i), claims)
	}
	if n := c.len(); n > 100 {
		t.Fatalf("cache grew to %d", n)
	}
}
