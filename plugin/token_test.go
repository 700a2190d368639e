package plugin

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"testing"
	"time"
)

// staticKeys is a keyLookup over a fixed map.
type staticKeys map[string][]byte

func (s staticKeys) key(_ context.Context, kid string) []byte { return s[kid] }

func testVerifier(key testKey, hmacOn bool) *verifier {
	v := &verifier{
		edKeys:   staticKeys{key.kid: key.pub},
		issuer:   "https://auth.example.com",
		audience: "plexgate",
		leeway:   30 * time.Second,
	}
	if hmacOn {
		v.hmacKey, v.hmacKID = []byte(testSecret), hmacKeyID([]byte(testSecret))
	}
	return v
}

func withClaim(name string, value any) map[string]any {
	c := goodClaims()
	if value == nil {
		delete(c, name)
	} else {
		c[name] = value
	}
	return c
}

// edRaw signs the raw JSON header and payload with key.
func edRaw(key testKey, head, body string) string {
	return signRaw(enc([]byte(head)), enc([]byte(body)), "EdDSA", key, nil)
}

// goodBody is goodClaims' payload as JSON text with extra members spliced
// in before the closing brace, for cases json.Marshal cannot write.
func goodBody(t testing.TB, extra string) string {
	t.Helper()
	b, err := json.Marshal(goodClaims())
	if err != nil {
		t.Fatal(err)
	}
	if extra == "" {
		return string(b)
	}
	return string(b[:len(b)-1]) + "," + extra + "}"
}

func TestVerifierAcceptsAndRejects(t *testing.T) {
	key := newTestKey(t)
	other := newTestKey(t)
	edHead := func(h map[string]any) string { return b64JSON(t, h) }
	head := `{"alg":"EdDSA","typ":"JWT","kid":"` + key.kid + `"}`
	body := b64JSON(t, goodClaims())
	good := edToken(t, key, goodClaims())
	hsKid := hmacKeyID([]byte(testSecret))
	past := fmt.Sprint(testNow.Add(-time.Hour).Unix())
	cases := []struct {
		name   string
		token  string
		hmacOn bool
		want   error
	}{
		{"valid EdDSA token is accepted", good, false, nil},
		{"valid HS256 token is accepted when a secret is set", hsToken(t, goodClaims()), true, nil},
		{"HS256 token is rejected without a secret", hsToken(t, goodClaims()), false, errAlgorithm},
		{"HS256 token without kid is rejected", signRaw(edHead(map[string]any{"alg": "HS256", "typ": "JWT"}), body, "HS256", key, []byte(testSecret)), true, errHeaderMembers},
		{"HS256 token with another secret's kid is rejected", signRaw(edHead(map[string]any{"alg": "HS256", "typ": "JWT", "kid": key.kid}), body, "HS256", key, []byte(testSecret)), true, errKeyID},
		{"alg none is rejected", edHead(map[string]any{"alg": "none", "typ": "JWT", "kid": key.kid}) + "." + body + ".", true, errAlgorithm},
		{"alg RS256 is rejected", signRaw(edHead(map[string]any{"alg": "RS256", "typ": "JWT", "kid": key.kid}), body, "EdDSA", key, nil), true, errAlgorithm},
		{"missing alg is rejected", signRaw(edHead(map[string]any{"typ": "JWT", "kid": key.kid}), body, "EdDSA", key, nil), false, errHeaderMembers},
		{"EdDSA public key used as HS256 secret is rejected", signRaw(edHead(map[string]any{"alg": "HS256", "typ": "JWT", "kid": hsKid}), body, "HS256", key, key.pub), false, errAlgorithm},
		{"token signed by another key is rejected", signRaw(edHead(map[string]any{"alg": "EdDSA", "typ": "JWT", "kid": key.kid}), body, "EdDSA", other, nil), false, errSignature},
		{"unknown kid is rejected", edToken(t, other, goodClaims()), false, errUnknownKey},
		{"numeric kid is rejected", signRaw(edHead(map[string]any{"alg": "EdDSA", "typ": "JWT", "kid": 7}), body, "EdDSA", key, nil), false, errHeaderMembers},
		{"token without kid is rejected", signRaw(edHead(map[string]any{"alg": "EdDSA", "typ": "JWT"}), body, "EdDSA", key, nil), false, errHeaderMembers},
		{"token without typ is rejected", signRaw(edHead(map[string]any{"alg": "EdDSA", "kid": key.kid}), body, "EdDSA", key, nil), false, errHeaderMembers},
		{"typ of a login state is rejected", signRaw(edHead(map[string]any{"alg": "EdDSA", "typ": "plexgate-login-state", "kid": key.kid}), body, "EdDSA", key, nil), false, errType},
		{"a fourth header member (jku) is rejected", signRaw(edHead(map[string]any{"alg": "EdDSA", "typ": "JWT", "kid": key.kid, "jku": "https://evil.example"}), body, "EdDSA", key, nil), false, errHeaderMembers},
		{"a repeated header member is rejected", edRaw(key, `{"alg":"none","alg":"EdDSA","typ":"JWT","kid":"`+key.kid+`"}`, goodBody(t, "")), false, errClaimName},
		{"a header member in another case is rejected", edRaw(key, `{"alg":"EdDSA","typ":"JWT","kid":"`+key.kid+`","ALG":"none"}`, goodBody(t, "")), false, errHeaderMembers},
		{"wrong issuer is rejected", edToken(t, key, withClaim("iss", "https://evil.example.com")), false, errIssuer},
		{"missing issuer is rejected", edToken(t, key, withClaim("iss", nil)), false, errMissingClaim},
		{"wrong audience is rejected", edToken(t, key, withClaim("aud", "other")), false, errAudience},
		{"audience list is rejected", edToken(t, key, withClaim("aud", []any{"plexgate"})), false, errInvalidClaim},
		{"missing audience is rejected", edToken(t, key, withClaim("aud", nil)), false, errMissingClaim},
		{"missing sub is rejected", edToken(t, key, withClaim("sub", nil)), false, errMissingClaim},
		{"empty sid is rejected", edToken(t, key, withClaim("sid", "")), false, errInvalidClaim},
		{"expired token is rejected", edToken(t, key, withClaim("exp", testNow.Add(-31*time.Second).Unix())), false, errExpired},
		{"token expired within the leeway is accepted", edToken(t, key, withClaim("exp", testNow.Add(-29*time.Second).Unix())), false, nil},
		{"token without exp is rejected", edToken(t, key, withClaim("exp", nil)), false, errMissingClaim},
		{"exp of 0 is expired", edToken(t, key, withClaim("exp", 0)), false, errExpired},
		{"exp as a quoted number is rejected", edToken(t, key, withClaim("exp", "4102444800")), false, errInvalidClaim},
		{"exp with a fraction is rejected", edToken(t, key, withClaim("exp", float64(testNow.Add(time.Hour).Unix())+0.5)), false, errInvalidClaim},
		{"exp after the year 9999 is rejected", edToken(t, key, withClaim("exp", maxDate+1)), false, errInvalidClaim},
		{"exp at the end of the year 9999 is accepted", edToken(t, key, withClaim("exp", maxDate)), false, nil},
		{"negative exp is rejected", edToken(t, key, withClaim("exp", -1)), false, errInvalidClaim},
		{"nbf of 1e20 is rejected", edToken(t, key, withClaim("nbf", 1e20)), false, errInvalidClaim},
		{"nbf beyond the leeway is rejected", edToken(t, key, withClaim("nbf", testNow.Add(31*time.Second).Unix())), false, errNotYetValid},
		{"nbf within the leeway is accepted", edToken(t, key, withClaim("nbf", testNow.Add(29*time.Second).Unix())), false, nil},
		{"nbf as a string is rejected", edToken(t, key, withClaim("nbf", "1")), false, errInvalidClaim},
		{"token without nbf is accepted", edToken(t, key, withClaim("nbf", nil)), false, nil},
		{"token without iat is rejected", edToken(t, key, withClaim("iat", nil)), false, errMissingClaim},
		{"iat beyond the leeway is rejected", edToken(t, key, withClaim("iat", testNow.Add(31*time.Second).Unix())), false, errIssuedAhead},
		{"iat within the leeway is accepted", edToken(t, key, withClaim("iat", testNow.Add(29*time.Second).Unix())), false, nil},
		{"a repeated claim is rejected", edRaw(key, head, goodBody(t, `"exp":`+past)), false, errClaimName},
		{"exp and EXP together are rejected", edRaw(key, head, goodBody(t, `"EXP":`+past)), false, errClaimName},
		{"EXP alone is not exp", edRaw(key, head, strings.Replace(goodBody(t, ""), `"exp"`, `"EXP"`, 1)), false, errClaimName},
		{"a claim spelled with the long s (ſ folds to s) is rejected", edRaw(key, head, strings.Replace(goodBody(t, ""), `"sub"`, `"\u017fub"`, 1)), false, errClaimName},
		{"groups with a number are rejected", edToken(t, key, withClaim("groups", []any{"admins", 1})), false, errInvalidClaim},
		{"a defined claim that is null is rejected", edRaw(key, head, goodBody(t, `"email2":1,"name":null`)), false, errInvalidClaim},
		{"hdr with a number is rejected", edToken(t, key, withClaim("hdr", map[string]any{"X-Forwarded-User": 1})), false, errInvalidClaim},
		{"hdr as a string is rejected", edToken(t, key, withClaim("hdr", "X-Forwarded-User: alice")), false, errInvalidClaim},
		{"hdr with a repeated name is rejected", edRaw(key, head, strings.Replace(goodBody(t, ""), `"hdr":{`, `"hdr":{"X-Forwarded-User":"mallory",`, 1)), false, errClaimName},
		{"an unknown claim of any type is ignored", edRaw(key, head, goodBody(t, `"x":[1,{"a":null}],"Exp2":"s"`)), false, nil},
		{"two segments are malformed", strings.Join(strings.Split(good, ".")[:2], "."), false, errMalformed},
		{"four segments are malformed", good + ".x", false, errMalformed},
		{"padded base64 is malformed", strings.Replace(good, ".", "=.", 1), false, errMalformed},
		{"unused low bits set in the signature are malformed", flipLowBits(good), false, errMalformed},
		{"a line feed inside a segment is malformed", good[:10] + "\n" + good[10:], false, errMalformed},
		{"standard base64 alphabet is malformed", enc([]byte(head)) + "." + base64.RawStdEncoding.EncodeToString([]byte(`{"a":"???>>>"}`)) + ".sig", false, errMalformed},
		{"header that is not JSON is malformed", base64.RawURLEncoding.EncodeToString([]byte("nope")) + "." + body + ".c2ln", false, errMalformed},
		{"trailing data after the claims is malformed", edRaw(key, head, goodBody(t, "")+` {}`), false, errMalformed},
		{"claims that are an array are malformed", edRaw(key, head, `[1]`), false, errMalformed},
		{"truncated signature is rejected", good[:strings.LastIndex(good, ".")+1] + base64.RawURLEncoding.EncodeToString(make([]byte, 32)), false, errSignature},
		{"over-long token is rejected", good + strings.Repeat("A", maxTokenBytes), false, errTooLong},
		{"empty token is malformed", "", false, errMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := verify(context.Background(), testVerifier(key, tc.hmacOn), tc.token, testNow.UnixNano())
			if err != tc.want {
				t.Fatalf("verify = %v, want %v", err, tc.want)
			}
		})
	}
}

// flipLowBits sets the unused low bits of a token's last character: the
// same bytes under a lenient decoder, a different string.
func flipLowBits(tok string) string {
	last := strings.IndexByte(base64URLAlphabet, tok[len(tok)-1])
	// a 64-byte signature is 86 characters: the last holds 2 data bits
	return tok[:len(tok)-1] + string(base64URLAlphabet[last|0x0f])
}

const base64URLAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func TestVerifierWithoutIssuerIgnoresIssValue(t *testing.T) {
	key := newTestKey(t)
	v := testVerifier(key, false)
	v.issuer = ""
	if _, err := verify(context.Background(), v, edToken(t, key, withClaim("iss", "https://other.example")), testNow.UnixNano()); err != nil {
		t.Fatalf("verify = %v, want nil", err)
	}
	// iss must still be a string: the type rules do not depend on the config
	if _, err := verify(context.Background(), v, edToken(t, key, withClaim("iss", 42)), testNow.UnixNano()); err != errInvalidClaim {
		t.Fatalf("iss 42: verify = %v, want %v", err, errInvalidClaim)
	}
}

func TestTokenExpiryReadsUnverifiedExp(t *testing.T) {
	key := newTestKey(t)
	cases := []struct {
		name  string
		token string
		want  time.Time
		ok    bool
	}{
		{"exp of a well-formed token", edToken(t, key, goodClaims()), testNow.Add(time.Hour), true},
		{"no exp", edToken(t, key, withClaim("exp", nil)), time.Time{}, false},
		{"not a JWT", "opaque-session-id", time.Time{}, false},
		{"bad payload", "a.b.c", time.Time{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var want int64
			if tc.ok {
				want = tc.want.UnixNano()
			}
			if got := tokenExpiry(tc.token); got != want {
				t.Fatalf("tokenExpiry = %d, want %d", got, want)
			}
		})
	}
}

// refTimes is checkClaims' date rule written with time.Time, as jwt/v5
// checks exp (required), iat and nbf with a leeway.
func refTimes(leeway time.Duration, claims map[string]any, now time.Time) error {
	at := func(name string) time.Time { return time.Unix(int64(claims[name].(float64)), 0) }
	if !now.Before(at("exp").Add(leeway)) {
		return errExpired
	}
	if now.Before(at("iat").Add(-leeway)) {
		return errIssuedAhead
	}
	if _, ok := claims["nbf"]; ok && now.Before(at("nbf").Add(-leeway)) {
		return errNotYetValid
	}
	return nil
}

// checkClaims compares dates as integer seconds; it must give the answer
// of the time.Time arithmetic for every valid date, around every boundary,
// near 1970 (where ⌊t/1e9⌋ is not t/1e9) and at the year 9999.
func TestDateComparisonsMatchTimeArithmetic(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	base := testNow.Unix()
	dates := []int64{0, 1, 2, 29, 30, 31, maxDate, maxDate - 1}
	for _, o := range []int64{0, 1, -1, 29, 30, 31, -29, -30, -31, 60, -60} {
		dates = append(dates, base+o)
	}
	for i := 0; i < 200; i++ {
		dates = append(dates, base+int64(r.Intn(200)-100))
	}
	nows := []int64{testNow.UnixNano(), 0, 1, -1, 999999999, 1e9, 30e9 - 1, 30e9, 30e9 + 1}
	for _, leeway := range []time.Duration{0, 30 * time.Second, time.Nanosecond, 5 * time.Minute} {
		v := &verifier{leeway: leeway, audience: "plexgate"}
		for i := 0; i < 20000; i++ {
			claims := map[string]any{"aud": "plexgate", "iss": "x"}
			for _, name := range []string{"exp", "iat", "nbf"} {
				claims[name] = float64(dates[r.Intn(len(dates))])
			}
			if r.Intn(2) == 0 {
				delete(claims, "nbf")
			}
			now := nows[r.Intn(len(nows))] + int64(r.Intn(4e9)) - 2e9
			if r.Intn(3) == 0 {
				now = testNow.UnixNano() + int64(r.Intn(200e9)) - 100e9
			}
			if got, want := checkClaims(v, claims, now), refTimes(leeway, claims, time.Unix(0, now)); got != want {
				t.Fatalf("leeway %v, claims %v, now %d: integer %v, time.Time %v", leeway, claims, now, got, want)
			}
		}
	}
}

// A header segment decoded once is reused, but every later token with it is
// still checked in full; headers of tokens that fail are never kept.
func TestKnownHeaderStillChecksEverything(t *testing.T) {
	key := newTestKey(t)
	v := testVerifier(key, true)
	if _, err := verify(context.Background(), v, edToken(t, key, goodClaims()), testNow.UnixNano()); err != nil {
		t.Fatal(err)
	}
	good := edToken(t, key, goodClaims())
	head := good[:strings.IndexByte(good, '.')]
	if _, ok := v.heads.Load(head); !ok {
		t.Fatal("the verified token's header was not kept")
	}
	badSig := good[:strings.LastIndexByte(good, '.')+1] + base64.RawURLEncoding.EncodeToString(make([]byte, 64))
	cases := map[string]struct {
		token string
		want  error
	}{
		"bad signature": {badSig, errSignature},
		"expired":       {edToken(t, key, withClaim("exp", testNow.Add(-time.Hour).Unix())), errExpired},
		"wrong issuer":  {edToken(t, key, withClaim("iss", "https://evil.example")), errIssuer},
	}
	for name, tc := range cases {
		if _, err := verify(context.Background(), v, tc.token, testNow.UnixNano()); err != tc.want {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	for i := 0; i < 3*maxHeads; i++ { // distinct headers that fail are not kept
		h := b64JSON(t, map[string]any{"alg": "EdDSA", "kid": key.kid, "n": i})
		_, _ = verify(context.Background(), v, h+good[len(head):], testNow.UnixNano())
	}
	if v.headsN != 1 {
		t.Fatalf("%d headers kept, want 1", v.headsN)
	}
}

// decodeCompact, the fast path, accepts a payload only when the member by
// member decoder accepts it with the same claims, and it is the path a
// payload as forwardauth writes it takes.
func TestCompactPathAgreesWithMemberByMember(t *testing.T) {
	minted, err := json.Marshal(goodClaims())
	if err != nil {
		t.Fatal(err)
	}
	if decodeCompact(minted, sessionTable) == nil {
		t.Fatal("a compact payload did not take the fast path")
	}
	fast := 0
	bodies := append(diffClaims(), string(minted), `{"sub":"a","sub":"a"}`, claimsWith("hdr", `{"A":"1","A":"1"}`, ""),
		claimsWith("", "", `"x":"\u00ff","x":"\u00ff"`), claimsWith("", "", `"\u0078":1,"x":1`), claimsWith("", "", "\"\xff\":1"),
		claimsWith("", "", "\"\xff\xff\xff\":1,\"x\":1,\"x\":1")) // invalid UTF-8 grows by 6 bytes, the repeat loses 6
	for _, body := range bodies {
		compact := decodeCompact([]byte(body), sessionTable)
		if compact == nil {
			continue
		}
		fast++
		slow, err := decodeMembers([]byte(body), sessionTable)
		if err != nil || !reflect.DeepEqual(compact, slow) {
			t.Fatalf("%s: fast path %v, member by member %v (%v)", body, compact, slow, err)
		}
	}
	if fast < 20 {
		t.Fatalf("only %d payloads took the fast path", fast)
	}
}
