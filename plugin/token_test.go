package plugin

import (
	"context"
	"encoding/base64"
	"math"
	"math/rand"
	"strings"
	"testing"
	"time"
)

// staticKeys is a keyLookup over a fixed map.
type staticKeys map[string][]byte

func (s staticKeys) key(_ context.Context, kid string) []byte { return s[kid] }

func (s staticKeys) all() [][]byte {
	var out [][]byte
	for _, k := range s {
		out = append(out, k)
	}
	return out
}

func testVerifier(key testKey, hmacOn bool) *verifier {
	v := &verifier{
		edKeys:   staticKeys{key.kid: key.pub},
		issuer:   "https://auth.example.com",
		audience: "plexgate",
		leeway:   30 * time.Second,
	}
	if hmacOn {
		v.hmacKey = []byte(testSecret)
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

func TestVerifierAcceptsAndRejects(t *testing.T) {
	key := newTestKey(t)
	other := newTestKey(t)
	edHead := func(h map[string]any) string { return b64JSON(t, h) }
	body := b64JSON(t, goodClaims())
	good := edToken(t, key, goodClaims())
	cases := []struct {
		name   string
		token  string
		hmacOn bool
		want   error
	}{
		{"valid EdDSA token is accepted", good, false, nil},
		{"valid HS256 token is accepted when a secret is set", hsToken(t, goodClaims()), true, nil},
		{"HS256 token is rejected without a secret", hsToken(t, goodClaims()), false, errAlgorithm},
		{"alg none is rejected", edHead(map[string]any{"alg": "none"}) + "." + body + ".", true, errAlgorithm},
		{"alg RS256 is rejected", signRaw(edHead(map[string]any{"alg": "RS256", "kid": key.kid}), body, "EdDSA", key, nil), true, errAlgorithm},
		{"missing alg is rejected", signRaw(edHead(map[string]any{"kid": key.kid}), body, "EdDSA", key, nil), false, errAlgorithm},
		{"EdDSA public key used as HS256 secret is rejected", signRaw(edHead(map[string]any{"alg": "HS256"}), body, "HS256", key, key.pub), false, errAlgorithm},
		{"token signed by another key is rejected", signRaw(edHead(map[string]any{"alg": "EdDSA", "kid": key.kid}), body, "EdDSA", other, nil), false, errSignature},
		{"unknown kid is rejected", edToken(t, other, goodClaims()), false, errUnknownKey},
		{"numeric kid is rejected", signRaw(edHead(map[string]any{"alg": "EdDSA", "kid": 7}), body, "EdDSA", key, nil), false, errKeyID},
		{"token without kid is checked against every key", signRaw(edHead(map[string]any{"alg": "EdDSA"}), body, "EdDSA", key, nil), false, nil},
		{"wrong issuer is rejected", edToken(t, key, withClaim("iss", "https://evil.example.com")), false, errIssuer},
		{"missing issuer is rejected", edToken(t, key, withClaim("iss", nil)), false, errIssuer},
		{"wrong audience is rejected", edToken(t, key, withClaim("aud", "other")), false, errAudience},
		{"audience list naming plexgate is accepted", edToken(t, key, withClaim("aud", []any{"x", "plexgate"})), false, nil},
		{"audience list with a number is rejected", edToken(t, key, withClaim("aud", []any{"plexgate", 1})), false, errAudience},
		{"missing audience is rejected", edToken(t, key, withClaim("aud", nil)), false, errAudience},
		{"expired token is rejected", edToken(t, key, withClaim("exp", testNow.Add(-31*time.Second).Unix())), false, errExpired},
		{"token expired within the leeway is accepted", edToken(t, key, withClaim("exp", testNow.Add(-29*time.Second).Unix())), false, nil},
		{"token without exp is rejected", edToken(t, key, withClaim("exp", nil)), false, errExpired},
		{"exp of 0 counts as missing", edToken(t, key, withClaim("exp", 0)), false, errExpired},
		{"exp as a string is rejected", edToken(t, key, withClaim("exp", "4102444800")), false, errInvalidClaim},
		{"nbf beyond the leeway is rejected", edToken(t, key, withClaim("nbf", testNow.Add(31*time.Second).Unix())), false, errNotYetValid},
		{"nbf within the leeway is accepted", edToken(t, key, withClaim("nbf", testNow.Add(29*time.Second).Unix())), false, nil},
		{"nbf as a string is rejected", edToken(t, key, withClaim("nbf", "1")), false, errInvalidClaim},
		{"two segments are malformed", strings.Join(strings.Split(good, ".")[:2], "."), false, errMalformed},
		{"four segments are malformed", good + ".x", false, errMalformed},
		{"padded base64 is malformed", strings.Replace(good, ".", "=.", 1), false, errMalformed},
		{"standard base64 alphabet is malformed", edHead(map[string]any{"alg": "EdDSA"}) + "." + base64.RawStdEncoding.EncodeToString([]byte(`{"a":"???>>>"}`)) + ".sig", false, errMalformed},
		{"header that is not JSON is malformed", base64.RawURLEncoding.EncodeToString([]byte("nope")) + "." + body + ".c2ln", false, errMalformed},
		{"trailing data after the claims is malformed", signRaw(edHead(map[string]any{"alg": "EdDSA", "kid": key.kid}), base64.RawURLEncoding.EncodeToString([]byte(`{"exp":1} {}`)), "EdDSA", key, nil), false, errMalformed},
		{"claims that are an array are malformed", signRaw(edHead(map[string]any{"alg": "EdDSA", "kid": key.kid}), base64.RawURLEncoding.EncodeToString([]byte(`[1]`)), "EdDSA", key, nil), false, errMalformed},
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

func TestVerifierWithoutIssuerIgnoresIss(t *testing.T) {
	key := newTestKey(t)
	v := testVerifier(key, false)
	v.issuer = ""
	if _, err := verify(context.Background(), v, edToken(t, key, withClaim("iss", 42)), testNow.UnixNano()); err != nil {
		t.Fatalf("verify = %v, want nil", err)
	}
}

// checkClaims compares dates as integers on its fast path; it must give the
// answer of the time.Time arithmetic (jwt/v5's) for every input, around
// every boundary included.
func TestFastTimesMatchTimeArithmetic(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	base := float64(testNow.Unix())
	offsets := []float64{0, 1e-9, 0.5, 0.9999999999, 1, 29, 29.5, 30, 30.000000001, 31, -1e-9, -0.5, -1, -29.9, -30, -30.5, -31}
	dates := []any{nil, 0.0, -1.0, 1.0, 0.5, 0.9999999999999999, 1.9999999999999998, 2.5, 30.5, 31.0, 1e11, 1e11 - 0.5, 9.3e9, 1e300, math.NaN(), math.Inf(1), "1"}
	for _, o := range offsets {
		dates = append(dates, base+o)
	}
	for i := 0; i < 2000; i++ {
		dates = append(dates, base+(r.Float64()-0.5)*200, math.Floor(base)+float64(r.Intn(120)-60)+r.Float64())
	}
	small := []any{0.5, 0.9999999999999999, 1.0, 1.5, 2.5, 3.0}
	for _, leeway := range []time.Duration{0, 30 * time.Second, time.Nanosecond, 5 * time.Minute} {
		v := &verifier{leeway: leeway, audience: "plexgate"}
		for i := 0; i < 20000; i++ {
			claims := map[string]any{"aud": "plexgate"}
			if e := dates[r.Intn(len(dates))]; e != nil {
				claims["exp"] = e
			}
			if n := dates[r.Intn(len(dates))]; n != nil && r.Intn(2) == 0 {
				claims["nbf"] = n
			}
			now := testNow.UnixNano() + int64(r.Intn(4e9)) - 2e9
			if i%10 == 0 { // around 1970, where ⌊t/1e9⌋ is not t/1e9
				now -= testNow.UnixNano()
				claims["exp"] = small[r.Intn(len(small))]
				if r.Intn(2) == 0 {
					claims["nbf"] = small[r.Intn(len(small))]
				}
			}
			if got, want := checkClaims(v, claims, now), checkTimesSlow(v, claims, now); got != want {
				t.Fatalf("leeway %v, claims %v, now %d: fast %v, slow %v", leeway, claims, now, got, want)
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
