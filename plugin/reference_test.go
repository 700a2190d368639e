package plugin

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// refTokenAccepts is the reference verifier of docs/contract.md's "Valid
// session token", written as forwardauth checks tokens: jwt/v5 with
// WithStrictDecoding, WithExpirationRequired, WithIssuedAt and the leeway,
// plus a scan of the raw header and payload for what jwt/v5 does not
// check (exact and distinct names, kinds, date bounds, required claims).
// It shares no code with the plugin's verifier.
func refTokenAccepts(v *verifier, keys staticKeys, token string, now time.Time) (bool, error) {
	if len(token) > maxTokenBytes {
		return false, errors.New("too long")
	}
	if strings.ContainsAny(token, "\r\n") {
		return false, errors.New("line break")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return false, errors.New("not three segments")
	}
	head, err1 := base64.RawURLEncoding.Strict().DecodeString(parts[0])
	body, err2 := base64.RawURLEncoding.Strict().DecodeString(parts[1])
	if err1 != nil || err2 != nil {
		return false, errors.New("base64")
	}
	if err := refHeader(head); err != nil {
		return false, err
	}
	if err := refPayload(body); err != nil {
		return false, err
	}
	keyFunc := func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if typ, _ := t.Header["typ"].(string); typ != "JWT" {
			return nil, errors.New("typ")
		}
		sum := sha256.Sum256(v.hmacKey)
		switch {
		case t.Method.Alg() == "HS256" && kid == base64.RawURLEncoding.EncodeToString(sum[:8]):
			return v.hmacKey, nil
		case t.Method.Alg() == "EdDSA" && keys[kid] != nil:
			return ed25519.PublicKey(keys[kid]), nil
		}
		return nil, errors.New("no key for kid and alg")
	}
	claims := jwt.MapClaims{}
	_, err := jwt.NewParser(
		jwt.WithValidMethods([]string{"EdDSA", "HS256"}),
		jwt.WithAudience(v.audience),
		jwt.WithIssuer(v.issuer),
		jwt.WithLeeway(v.leeway),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithStrictDecoding(),
		jwt.WithTimeFunc(func() time.Time { return now }),
	).ParseWithClaims(token, claims, keyFunc)
	return err == nil, err
}

// member is one name/value pair of a JSON object, in document order.
type member struct {
	name  string
	value json.RawMessage
}

// refMembers parses one JSON object (and nothing after it) into its
// members, repeated names kept.
func refMembers(raw []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("not an object")
	}
	var out []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var m member
		m.name = tok.(string)
		if err := dec.Decode(&m.value); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("data after the object")
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if strings.EqualFold(out[i].name, out[j].name) {
				return nil, fmt.Errorf("names %q and %q", out[i].name, out[j].name)
			}
		}
	}
	return out, nil
}

func refHeader(raw []byte) error {
	members, err := refMembers(raw)
	if err != nil {
		return err
	}
	if len(members) != 3 {
		return errors.New("header members")
	}
	for _, m := range members {
		if (m.name != "alg" && m.name != "typ" && m.name != "kid") || m.value[0] != '"' {
			return errors.New("header member " + m.name)
		}
	}
	return nil
}

// refKinds is the claim table of docs/contract.md.
var refKinds = map[string]string{
	"iss": "string", "aud": "string", "sub": "id", "sid": "id", "exp": "date", "iat": "date", "nbf": "date",
	"jti": "string", "email": "string", "name": "string", "acr": "string", "groups": "strings", "amr": "strings", "hdr": "headers",
}

var refRequired = []string{"iss", "aud", "sub", "sid", "exp", "iat"}

func refPayload(raw []byte) error {
	members, err := refMembers(raw)
	if err != nil {
		return err
	}
	present := map[string]bool{}
	for _, m := range members {
		for name, kind := range refKinds {
			if !strings.EqualFold(m.name, name) {
				continue
			}
			if m.name != name {
				return errors.New("claim in another case: " + m.name)
			}
			if !refKind(m.value, kind) {
				return errors.New("claim of the wrong kind: " + name)
			}
		}
		present[m.name] = true
	}
	for _, name := range refRequired {
		if !present[name] {
			return errors.New("missing " + name)
		}
	}
	return nil
}

func refKind(raw json.RawMessage, kind string) bool {
	switch kind {
	case "string":
		return raw[0] == '"'
	case "id":
		return raw[0] == '"' && string(raw) != `""`
	case "date":
		if raw[0] != '-' && (raw[0] < '0' || raw[0] > '9') {
			return false
		}
		f, err := strconv.ParseFloat(string(raw), 64)
		return err == nil && f >= 0 && f <= 253402300799 && f == float64(int64(f))
	case "strings":
		var list []json.RawMessage
		if raw[0] != '[' || json.Unmarshal(raw, &list) != nil {
			return false
		}
		for _, item := range list {
			if item[0] != '"' {
				return false
			}
		}
		return true
	case "headers":
		if raw[0] != '{' {
			return false
		}
		members, err := refMembers(raw)
		if err != nil {
			return false
		}
		for _, m := range members {
			if m.value[0] != '"' {
				return false
			}
		}
		return true
	}
	return false
}
