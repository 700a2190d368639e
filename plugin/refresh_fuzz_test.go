package plugin

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// FuzzRefreshPointNeverLaterThanForwardauths holds the plugin's reading of
// "rat" to forwardauth's (jwt/v5's NumericDate, docs/contract.md): for any
// JSON value, the plugin never trusts a token past the point forwardauth
// refreshes it. A value forwardauth reads as a date the plugin reads as the
// same second or as due at once; anything else is due at once.
func FuzzRefreshPointNeverLaterThanForwardauths(f *testing.F) {
	for _, seed := range []string{`1795000000`, `1795000000.75`, `"1795000000"`, `0`, `-1`, `1e11`, `1e300`, `null`, `true`, `[1]`, `{}`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		var claims map[string]any
		if json.Unmarshal([]byte(`{"rat":`+raw+`}`), &claims) != nil {
			return
		}
		at, has := refreshNanos(claims)
		if !has {
			t.Fatalf("rat %s present but not seen", raw)
		}
		var theirs struct {
			Rat *jwt.NumericDate `json:"rat"`
		}
		if json.Unmarshal([]byte(`{"rat":`+raw+`}`), &theirs) != nil || theirs.Rat == nil {
			if at != 0 {
				t.Fatalf("rat %s: forwardauth reads no date, the plugin trusts until %d", raw, at)
			}
			return
		}
		sec := theirs.Rat.Unix()
		switch {
		case at == 0: // due at once: never later
		case at == math.MaxInt64 && sec > math.MaxInt64/int64(time.Second): // both past 2262
		case at != sec*int64(time.Second):
			t.Fatalf("rat %s: plugin %d ns, forwardauth %d s", raw, at, sec)
		}
	})
}
