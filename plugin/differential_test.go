package plugin

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The differential tests hold the plugin's verifier to jwt/v5: configured
// with the same keys (by kid, or every key when there is none), algorithms,
// issuer, audience and leeway, expiry required and strict base64, both must
// accept exactly the same tokens. The one intended difference: the plugin
// refuses tokens over maxTokenBytes outright.

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
		issuer:   "https://auth.example.com",
		audience: "plexgate",
		leeway:   30 * time.Second,
	}
}

// jwtAccepts is jwt/v5's answer for v's configuration.
func jwtAccepts(v *verifier, keys staticKeys, token string, now time.Time) bool {
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{"EdDSA", "HS256"}),
		jwt.WithAudience(v.audience),
		jwt.WithIssuer(v.issuer),
		jwt.WithLeeway(v.leeway),
		jwt.WithExpirationRequired(),
		jwt.WithStrictDecoding(),
		jwt.WithTimeFunc(func() time.Time { return now }),
	}
	keyFunc := func(t *jwt.Token) (any, error) {
		if t.Method.Alg() == "HS256" {
			return v.hmacKey, nil
		}
		raw, hasKid := t.Header["kid"]
		if !hasKid {
			set := jwt.VerificationKeySet{}
			for _, k := range keys {
				set.Keys = append(set.Keys, ed25519.PublicKey(k))
			}
			return set, nil
		}
		kid, ok := raw.(string)
		if !ok || keys[kid] == nil {
			return nil, errors.New("unknown kid")
		}
		return ed25519.PublicKey(keys[kid]), nil
	}
	_, err := jwt.NewParser(opts...).Parse(token, keyFunc)
	return err == nil
}

// compare reports a mismatch between the two verifiers for token.
func compare(t *testing.T, key testKey, token string) (accepted bool) {
	t.Helper()
	v := diffVerifier(key)
	_, err := verify(context.Background(), v, token, testNow.UnixNano())
	mine := err == nil
	if len(token) > maxTokenBytes {
		if mine {
			t.Fatalf("over-long token accepted: %.80q", token)
		}
		return false
	}
	theirs := jwtAccepts(v, v.edKeys.(staticKeys), token, testNow)
	if mine != theirs {
		t.Fatalf("plugin accepts=%v (err %v), jwt/v5 accepts=%v for %q", mine, err, theirs, token)
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
	return []string{
		`{"alg":"EdDSA","typ":"JWT","kid":"` + key.kid + `"}`,
		`{"alg":"EdDSA"}`,
		`{"alg":"HS256","typ":"JWT"}`,
		`{"alg":"none"}`, `{"alg":"RS256","kid":"` + key.kid + `"}`, `{"alg":"EdDSA","kid":7}`,
		`{"alg":"EdDSA","kid":null}`, `{"alg":"EdDSA","kid":"other"}`, `{"alg":["EdDSA"]}`,
		`{"typ":"JWT"}`, `null`, `[]`, `{"alg":"EdDSA","alg":"none"}`, `{"alg":"none","alg":"EdDSA"}`,
		`{"alg":"EdDSA"} `, `{"alg":"EdDSA"}x`, `{"alg":"eddsa"}`,
	}
}

func diffClaims() []string {
	exp := testNow.Add(time.Hour).Unix()
	var out []string
	for _, e := range []string{
		fmt.Sprint(exp), fmt.Sprint(testNow.Unix()), fmt.Sprint(testNow.Unix() - 29), fmt.Sprint(testNow.Unix() - 30),
		fmt.Sprint(testNow.Unix() - 31), fmt.Sprintf("%d.999", testNow.Unix()-30), "0", "-1", "1e300", "-1e300",
		"9.3e18", `"` + fmt.Sprint(exp) + `"`, "null", "true", "[1]", "1e400",
	} {
		out = append(out, `{"iss":"https://auth.example.com","aud":"plexgate","exp":`+e+`}`)
	}
	for _, n := range []string{
		fmt.Sprint(testNow.Unix() + 29), fmt.Sprint(testNow.Unix() + 30), fmt.Sprint(testNow.Unix() + 31),
		"0", "1e300", "9.3e18", `"1"`, "null",
	} {
		out = append(out, fmt.Sprintf(`{"iss":"https://auth.example.com","aud":"plexgate","exp":%d,"nbf":%s}`, exp, n))
	}
	for _, a := range []string{`"plexgate"`, `"x"`, `""`, `["plexgate"]`, `["x","plexgate"]`, `["plexgate",1]`, `[]`, `[""]`, `null`, `1`, `{"a":"plexgate"}`} {
		out = append(out, fmt.Sprintf(`{"iss":"https://auth.example.com","aud":%s,"exp":%d}`, a, exp))
	}
	for _, i := range []string{`"https://auth.example.com"`, `"https://evil"`, `""`, `null`, `1`, `["https://auth.example.com"]`} {
		out = append(out, fmt.Sprintf(`{"iss":%s,"aud":"plexgate","exp":%d}`, i, exp))
	}
	return append(out,
		fmt.Sprintf(`{"aud":"plexgate","exp":%d}`, exp),
		fmt.Sprintf(`{"iss":"https://auth.example.com","aud":"plexgate","exp":%d,"iat":"garbage","sub":5}`, exp),
		fmt.Sprintf(`{"iss":"https://auth.example.com","aud":"plexgate","exp":%d,"exp":1}`, exp),
		fmt.Sprintf(`{"iss":"https://auth.example.com","aud":"plexgate","exp":%d} {}`, exp),
		`null`, `[]`, `"x"`, `{}`,
	)
}

func TestVerifierMatchesJWTOnGeneratedAndMutatedTokens(t *testing.T) {
	key := fixedKey()
	accepted, total := 0, 0
	for _, head := range diffHeaders(key) {
		for _, body := range diffClaims() {
			for mode := uint8(0); mode < 2; mode++ {
				tok := buildToken(key, []byte(head), []byte(body), mode, "")
				for _, m := range mutations(tok) {
					total++
					if compare(t, key, m) {
						accepted++
					}
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

// mutations returns tok and a few corrupted copies of it.
func mutations(tok string) []string {
	out := []string{tok, tok + "=", tok + ".", "." + tok, tok[:len(tok)/2]}
	for _, i := range []int{0, len(tok) / 3, len(tok) - 2, len(tok) - 1} {
		if i >= 0 && i < len(tok) {
			b := []byte(tok)
			b[i] ^= 0x01
			out = append(out, string(b))
		}
	}
	return out
}

func FuzzVerifyMatchesJWT(f *testing.F) {
	key := fixedKey()
	good, _ := json.Marshal(goodClaims())
	f.Add([]byte(`{"alg":"EdDSA","kid":"`+key.kid+`"}`), good, uint8(0), "")
	f.Add([]byte(`{"alg":"HS256"}`), good, uint8(1), "")
	f.Add([]byte(`{"alg":"EdDSA"}`), good, uint8(3), "x")
	f.Add([]byte(`{}`), []byte(`{}`), uint8(2), "eyJhbGciOiJub25lIn0.e30.")
	f.Fuzz(func(t *testing.T, head, body []byte, mode uint8, raw string) {
		compare(t, key, buildToken(key, head, body, mode, raw))
	})
}
