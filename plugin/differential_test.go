package plugin

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/plexgate/plexgate/forwardauth/config"
	"github.com/plexgate/plexgate/forwardauth/session"
)

// The differential tests hold the plugin's verifier to forwardauth's own
// session parser (forwardauth/session, imported by tests only: the plugin
// stays standard library only), both configured with the same keys,
// issuer, audience and leeway, for tokens signed with the real keys: both
// must accept exactly the tokens docs/contract.md calls valid.

// forwardauthSessions are forwardauth's verifiers for the differential
// key: one signing with it (EdDSA), one with testSecret (HS256), as two
// deployments would; forwardauth accepts a token when either does, which
// is what a plugin configured with both keys must answer.
func forwardauthSessions(t testing.TB, key testKey) []*session.Sessions {
	t.Helper()
	cfg := config.SessionConfig{Audience: "plexgate", Leeway: 30 * time.Second, MaxAge: time.Hour, CookieName: "plexgate_session"}
	now := func() time.Time { return testNow }
	hsCfg := cfg
	hsCfg.HMACSecret = testSecret
	hsKeys, err := session.LoadKeys(hsCfg)
	if err != nil {
		t.Fatal(err)
	}
	return []*session.Sessions{
		session.NewSessions(session.NewKeys(key.priv), cfg, "https://auth.example.com", now),
		session.NewSessions(hsKeys, hsCfg, "https://auth.example.com", now),
	}
}

// forwardauthAccepts is forwardauth's answer for token.
func forwardauthAccepts(fa []*session.Sessions, token string) (bool, error) {
	var errs []error
	for _, s := range fa {
		_, err := s.Verify(token)
		if err == nil {
			return true, nil
		}
		errs = append(errs, err)
	}
	return false, errors.Join(errs...)
}

// fixedKey is a deterministic key so that the fuzz corpus stays meaningful.
func fixedKey() testKey {
	priv := ed25519.NewKeyFromSeed([]byte("plexgate differential test key!!"))
	pub := priv.Public().(ed25519.PublicKey)
	return testKey{pub: pub, priv: priv, kid: thumbprint(pub)}
}

func diffVerifier(key testKey) *verifier {
	return &verifier{
		edKeys:   staticKeys{key.kid: key.pub},
		hmacKey:  []byte(testSecret),
		hmacKID:  hmacKeyID([]byte(testSecret)),
		issuer:   "https://auth.example.com",
		audience: "plexgate",
		leeway:   30 * time.Second,
	}
}

// compare reports a mismatch between the two verifiers for token.
func compare(t *testing.T, key testKey, fa []*session.Sessions, token string) (accepted bool) {
	t.Helper()
	_, err := verify(context.Background(), diffVerifier(key), token, testNow.UnixNano())
	mine := err == nil
	theirs, why := forwardauthAccepts(fa, token)
	if mine != theirs {
		t.Fatalf("plugin accepts=%v (err %v), forwardauth accepts=%v (%v) for %q", mine, err, theirs, why, token)
	}
	return mine
}

func enc(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// buildToken makes a token from raw header and claims JSON according to
// mode: signed with EdDSA, signed with HS256, raw taken as the whole token,
// or signed with EdDSA and raw appended.
func buildToken(key testKey, head, body []byte, mode uint8, raw string) string {
	switch mode % 4 {
	case 0:
		return signRaw(enc(head), enc(body), "EdDSA", key, nil)
	case 1:
		return signRaw(enc(head), enc(body), "HS256", key, []byte(testSecret))
	case 2:
		return raw
	}
	return signRaw(enc(head), enc(body), "EdDSA", key, nil) + raw
}

func diffHeaders(key testKey) []string {
	hk := hmacKeyID([]byte(testSecret))
	return []string{
		`{"alg":"EdDSA","typ":"JWT","kid":"` + key.kid + `"}`,
		`{"alg":"HS256","typ":"JWT","kid":"` + hk + `"}`,
		`{"alg":"EdDSA","typ":"JWT"}`, `{"alg":"HS256","typ":"JWT"}`, `{"alg":"EdDSA","kid":"` + key.kid + `"}`,
		`{"alg":"HS256","typ":"JWT","kid":"` + key.kid + `"}`, `{"alg":"EdDSA","typ":"JWT","kid":"` + hk + `"}`,
		`{"alg":"none","typ":"JWT","kid":"` + key.kid + `"}`, `{"alg":"RS256","typ":"JWT","kid":"` + key.kid + `"}`,
		`{"alg":"EdDSA","typ":"JWT","kid":7}`, `{"alg":"EdDSA","typ":"JWT","kid":null}`, `{"alg":"EdDSA","typ":"JWT","kid":"other"}`,
		`{"alg":["EdDSA"],"typ":"JWT","kid":"` + key.kid + `"}`, `{"alg":"EdDSA","typ":"jwt","kid":"` + key.kid + `"}`,
		`{"alg":"EdDSA","typ":"plexgate-login-state","kid":"` + key.kid + `"}`,
		`{"alg":"EdDSA","typ":"JWT","kid":"` + key.kid + `","jku":"https://evil.example"}`,
		`{"alg":"EdDSA","typ":"JWT","kid":"` + key.kid + `","crit":["exp"]}`,
		`{"alg":"EdDSA","typ":"JWT","kid":"` + key.kid + `","KID":"x"}`,
		`{"alg":"none","alg":"EdDSA","typ":"JWT","kid":"` + key.kid + `"}`,
		`{"alg":"EdDSA","typ":"JWT","kid":"` + key.kid + `","alg":"EdDSA"}`,
		`{"ALG":"EdDSA","typ":"JWT","kid":"` + key.kid + `"}`,
		`null`, `[]`, `{}`, `{"alg":"EdDSA","typ":"JWT","kid":"` + key.kid + `"} `, ` {"alg":"EdDSA","typ":"JWT","kid":"` + key.kid + `"}`,
		`{"alg":"EdDSA","typ":"JWT","kid":"` + key.kid + `"}x`, `{"alg":"EdDSA","typ":"JWT","kid":"` + key.kid + `"}{}`,
	}
}

// claimsWith is a valid payload at testNow, as JSON text, with member
// name set to the raw JSON value (absent when value is ""), then extra
// members spliced in.
func claimsWith(name, value, extra string) string {
	exp, iat := testNow.Add(time.Hour).Unix(), testNow.Add(-time.Minute).Unix()
	members := []string{`"iss":"https://auth.example.com"`, `"aud":"plexgate"`, `"sub":"00u1"`, `"sid":"s1"`,
		fmt.Sprintf(`"iat":%d`, iat), fmt.Sprintf(`"nbf":%d`, iat), fmt.Sprintf(`"exp":%d`, exp),
		`"email":"alice@example.com"`, `"groups":["plex-users","admins"]`, `"amr":["pwd","mfa"]`,
		`"hdr":{"X-Forwarded-User":"alice@example.com","X-Forwarded-Groups":"plex-users,admins"}`}
	var out []string
	for _, m := range members {
		if strings.HasPrefix(m, `"`+name+`":`) {
			if value == "" {
				continue
			}
			m = `"` + name + `":` + value
		}
		out = append(out, m)
	}
	if name != "" && value != "" && !strings.Contains(strings.Join(out, ","), `"`+name+`":`) {
		out = append(out, `"`+name+`":`+value)
	}
	if extra != "" {
		out = append(out, extra)
	}
	return "{" + strings.Join(out, ",") + "}"
}

func diffClaims() []string {
	now := testNow.Unix()
	dates := []string{fmt.Sprint(now + 3600), fmt.Sprint(now), fmt.Sprint(now - 29), fmt.Sprint(now - 30), fmt.Sprint(now - 31),
		fmt.Sprint(now + 29), fmt.Sprint(now + 30), fmt.Sprint(now + 31), fmt.Sprintf("%d.5", now+3600), fmt.Sprintf("%d.0", now+3600),
		fmt.Sprintf("%de0", now+3600), "1.7954388e9", "0", "-0", "-1", "1e20", "1e300", "9.3e18", "253402300799", "253402300800",
		`"` + fmt.Sprint(now+3600) + `"`, "null", "true", "[1]", "{}", `""`}
	out := []string{claimsWith("", "", ""), strings.ReplaceAll(strings.ReplaceAll(claimsWith("", "", ""), ":", " : "), ",", " ,\n\t"), `null`, `[]`, `"x"`, `{}`, claimsWith("", "", "") + " {}", " " + claimsWith("", "", "") + "\n"}
	for _, name := range []string{"exp", "iat", "nbf", "auth_time", "rat"} {
		out = append(out, claimsWith(name, "", ""))
		for _, d := range dates {
			out = append(out, claimsWith(name, d, ""))
		}
	}
	strs := []string{`"plexgate"`, `"x"`, `""`, `["plexgate"]`, `["x","plexgate"]`, `[]`, `null`, `1`, `{"a":"plexgate"}`, `"https://auth.example.com"`}
	for _, name := range []string{"iss", "aud", "sub", "sid", "email", "name", "acr", "jti"} {
		out = append(out, claimsWith(name, "", ""))
		for _, s := range strs {
			out = append(out, claimsWith(name, s, ""))
		}
	}
	for _, name := range []string{"groups", "amr"} {
		for _, v := range []string{`[]`, `["a"]`, `["a",1]`, `"a"`, `null`, `[null]`, `[["a"]]`} {
			out = append(out, claimsWith(name, v, ""))
		}
	}
	for _, v := range []string{`{}`, `{"X-Forwarded-User":1}`, `{"X-Forwarded-User":null}`, `"alice"`, `null`, `[]`,
		`{"X-Forwarded-User":"a","X-Forwarded-User":"b"}`, `{"X-Forwarded-User":"a","x-forwarded-user":"b"}`, `{"a":"1","b":"2"}`} {
		out = append(out, claimsWith("hdr", v, ""))
	}
	past := fmt.Sprint(now - 3600)
	for _, extra := range []string{`"exp":` + past, `"EXP":` + past, `"Exp":1`, `"eXp":"x"`, `"AUD":"plexgate"`, `"Sub":"x"`,
		`"ſub":"x"`, `"ſid":"x"`, `"\u212aid":"x"`, `"Hdr":{}`, `"HDR":1`, `"sid":"s2"`, `"groups":[]`, `"x":1`, `"x":[1,{"y":null}]`,
		`"Exp2":1`, `"":1`, `"x":1,"X":2`, `"auth_time":1`, `"\u0065xp":` + past, "\"\xff\xff\xff\":1,\"x\":1,\"x\":1"} {
		out = append(out, claimsWith("", "", extra))
	}
	for _, name := range []string{"exp", "sub", "hdr"} { // the claim only in another case
		out = append(out, strings.Replace(claimsWith("", "", ""), `"`+name+`":`, `"`+strings.ToUpper(name)+`":`, 1))
	}
	return out
}

func TestVerifierMatchesForwardauthOnGeneratedAndMutatedTokens(t *testing.T) {
	key := fixedKey()
	fa := forwardauthSessions(t, key)
	accepted, total := 0, 0
	// every header with valid claims, every payload under the two valid headers
	var pairs [][2]string
	heads := diffHeaders(key)
	for _, head := range heads {
		pairs = append(pairs, [2]string{head, claimsWith("", "", "")})
	}
	for _, body := range diffClaims() {
		pairs = append(pairs, [2]string{heads[0], body}, [2]string{heads[1], body})
	}
	for _, p := range pairs {
		for mode := uint8(0); mode < 2; mode++ {
			tok := buildToken(key, []byte(p[0]), []byte(p[1]), mode, "")
			for _, m := range mutations(tok) {
				total++
				if compare(t, key, fa, m) {
					accepted++
				}
			}
		}
	}
	// Guard against a vacuous comparison.
	if accepted < 50 || accepted == total {
		t.Fatalf("%d of %d tokens accepted: the generated set does not exercise both answers", accepted, total)
	}
	t.Logf("%d tokens compared, %d accepted by both", total, accepted)
}

// mutations returns tok and corrupted copies of it: padding, extra dots,
// truncation, flipped bits, unused low bits set at the end of each
// segment, line breaks inside a segment.
func mutations(tok string) []string {
	out := []string{tok, tok + "=", tok + ".", "." + tok, tok[:len(tok)/2], tok[:10] + "\n" + tok[10:], tok[:10] + "\r" + tok[10:]}
	for _, i := range []int{0, len(tok) / 3, len(tok) - 2, len(tok) - 1} {
		if i >= 0 && i < len(tok) {
			b := []byte(tok)
			b[i] ^= 0x01
			out = append(out, string(b))
		}
	}
	for i := 0; i < len(tok); i++ {
		if i+1 == len(tok) || tok[i+1] == '.' {
			if c := strings.IndexByte(base64URLAlphabet, tok[i]); c >= 0 {
				out = append(out, tok[:i]+string(base64URLAlphabet[c|0x01])+tok[i+1:])
			}
		}
	}
	return out
}

func FuzzVerifyMatchesForwardauth(f *testing.F) {
	key := fixedKey()
	fa := forwardauthSessions(f, key)
	good, _ := json.Marshal(goodClaims())
	f.Add([]byte(`{"alg":"EdDSA","typ":"JWT","kid":"`+key.kid+`"}`), good, uint8(0), "")
	f.Add([]byte(`{"alg":"HS256","typ":"JWT","kid":"`+hmacKeyID([]byte(testSecret))+`"}`), good, uint8(1), "")
	f.Add([]byte(`{"alg":"EdDSA","typ":"JWT","kid":"`+key.kid+`"}`), []byte(claimsWith("", "", `"EXP":1`)), uint8(0), "")
	f.Add([]byte(`{"alg":"EdDSA","typ":"JWT","kid":"`+key.kid+`"}`), []byte(claimsWith("nbf", "1e20", "")), uint8(0), "")
	f.Add([]byte(`{"alg":"EdDSA"}`), good, uint8(3), "x")
	f.Add([]byte(`{}`), []byte(`{}`), uint8(2), "eyJhbGciOiJub25lIn0.e30.")
	f.Fuzz(func(t *testing.T, head, body []byte, mode uint8, raw string) {
		compare(t, key, fa, buildToken(key, head, body, mode, raw))
	})
}
