package session

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/plexgate/plexgate/forwardauth/config"
)

var strictNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func strictKeys() *Keys {
	return NewKeys(ed25519.NewKeyFromSeed([]byte("plexgate strict-check test key!!")))
}

// signJSON signs raw header and payload JSON with the keys' signing key.
func signJSON(ks *Keys, head, body string) string {
	b64 := base64.RawURLEncoding.EncodeToString
	signed := b64([]byte(head)) + "." + b64([]byte(body))
	return signed + "." + b64(ed25519.Sign(ks.signKey.(ed25519.PrivateKey), []byte(signed)))
}

// stateBody is the payload of a valid login state at strictNow, with the
// member name's raw JSON value replaced (removed when value is ""), then
// extra members appended.
func stateBody(name, value, extra string) string {
	m := map[string]string{
		"iss": `"https://auth.example.com"`, "aud": `"plexgate/login-state"`,
		"iat": fmt.Sprint(strictNow.Unix()), "exp": fmt.Sprint(strictNow.Add(StateTTL).Unix()),
		"st": `"state1"`, "nonce": `"n1"`, "pkce": `"v1"`, "rd": `"https://plex.example.com/"`,
	}
	if name != "" {
		m[name] = value
	}
	var parts []string
	for _, k := range []string{"iss", "aud", "iat", "exp", "st", "nonce", "pkce", "rd", "nbf", "sub", "jti"} {
		if v, ok := m[k]; ok && v != "" {
			parts = append(parts, `"`+k+`":`+v)
		}
	}
	if extra != "" {
		parts = append(parts, extra)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// Login-state tokens follow the same definition as sessions (the plugin
// never sees them, so forwardauth's side is tested alone): each case is a
// token signed with the real key that only the named rule refuses.
func TestLoginStateTokensFollowTheDefinition(t *testing.T) {
	ks := strictKeys()
	st := NewStates(ks, "https://auth.example.com", "plexgate", 30*time.Second, func() time.Time { return strictNow })
	head := `{"alg":"EdDSA","kid":"` + ks.SigningKID() + `","typ":"` + StateType + `"}`
	past := fmt.Sprint(strictNow.Add(-time.Hour).Unix())
	good := signJSON(ks, head, stateBody("", "", ""))
	cases := []struct {
		name  string
		token string
		ok    bool
	}{
		{"a valid state", good, true},
		{"a state minted by States.Mint", "", true},
		{"exp repeated, the expired value last", signJSON(ks, head, stateBody("", "", `"exp":`+past)), false},
		{"exp and EXP", signJSON(ks, head, stateBody("", "", `"EXP":`+past)), false},
		{"EXP alone", signJSON(ks, head, strings.Replace(stateBody("", "", ""), `"exp"`, `"EXP"`, 1)), false},
		{"st in another case", signJSON(ks, head, strings.Replace(stateBody("", "", ""), `"st"`, `"ST"`, 1)), false},
		{"exp as a quoted number", signJSON(ks, head, stateBody("exp", `"`+fmt.Sprint(strictNow.Add(StateTTL).Unix())+`"`, "")), false},
		{"nbf of 1e20", signJSON(ks, head, stateBody("nbf", "1e20", "")), false},
		{"exp beyond the year 9999", signJSON(ks, head, stateBody("exp", "253402300800", "")), false},
		{"exp with a fraction", signJSON(ks, head, stateBody("exp", fmt.Sprintf("%d.5", strictNow.Add(StateTTL).Unix()), "")), false},
		{"aud as an array", signJSON(ks, head, stateBody("aud", `["plexgate/login-state"]`, "")), false},
		{"iat in the future", signJSON(ks, head, stateBody("iat", fmt.Sprint(strictNow.Add(time.Minute).Unix()), "")), false},
		{"iat missing", signJSON(ks, head, stateBody("iat", "", "")), false},
		{"nonce null", signJSON(ks, head, stateBody("nonce", "null", "")), false},
		{"pkce empty", signJSON(ks, head, stateBody("pkce", `""`, "")), false},
		{"without kid", signJSON(ks, `{"alg":"EdDSA","typ":"`+StateType+`"}`, stateBody("", "", "")), false},
		{"a fourth header member", signJSON(ks, `{"alg":"EdDSA","kid":"`+ks.SigningKID()+`","typ":"`+StateType+`","jku":"x"}`, stateBody("", "", "")), false},
		{"a session's typ", signJSON(ks, `{"alg":"EdDSA","kid":"`+ks.SigningKID()+`","typ":"JWT"}`, stateBody("", "", "")), false},
		{"padding", strings.Replace(good, ".", "=.", 1), false},
		{"unused low bits set in the signature", good[:len(good)-1] + string(lowBitsSet(good[len(good)-1])), false},
		{"a line feed in the payload", good[:len(good)/2] + "\n" + good[len(good)/2:], false},
		{"trailing data after the payload", signJSON(ks, head, stateBody("", "", "")+" {}"), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok := tc.token
			state := "state1"
			if tok == "" {
				ls, raw, err := st.Mint("https://plex.example.com/", "v1")
				if err != nil {
					t.Fatal(err)
				}
				tok, state = raw, ls.State
			}
			_, err := st.Verify(tok, state)
			if (err == nil) != tc.ok {
				t.Fatalf("Verify = %v, want accepted=%v", err, tc.ok)
			}
		})
	}
}

// lowBitsSet returns c, the last character of an 86-character signature
// (2 data bits), with its 4 unused low bits set.
func lowBitsSet(c byte) byte {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	return alphabet[strings.IndexByte(alphabet, c)|0x0f]
}

// Before WithStrictDecoding, the 16 spellings of a token's last character
// that differ only in unused bits all passed /validate (issue 12).
func TestSessionWithNonCanonicalBase64IsRefused(t *testing.T) {
	ks := strictKeys()
	s := NewSessions(ks, config.SessionConfig{Audience: "plexgate", Leeway: 30 * time.Second, MaxAge: time.Hour, CookieName: "s"},
		"https://auth.example.com", func() time.Time { return strictNow })
	tok, err := s.Mint(Identity{Subject: "00u1", Headers: map[string]string{"X-Forwarded-User": "alice"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Verify(tok); err != nil {
		t.Fatalf("the minted token: %v", err)
	}
	// the minted signature's last character has its low bits zero
	if bad := tok[:len(tok)-1] + string(lowBitsSet(tok[len(tok)-1])); bad != tok {
		if _, err := s.Verify(bad); err == nil {
			t.Fatal("a signature with unused bits set was accepted")
		}
	}
	// and the strict check alone would not catch it: jwt/v5 must decode strictly
	if err := checkRaw(tok[:len(tok)-1]+string(lowBitsSet(tok[len(tok)-1])), sessionClaims); err != nil {
		t.Fatalf("checkRaw looks at the signature: %v", err)
	}
	var claims map[string]any
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	if err := json.Unmarshal(payload, &claims); err != nil || claims["iat"] == nil {
		t.Fatalf("minted claims %v (%v): iat is required", claims, err)
	}
}
