package plex

import (
	"net/http"
	"strconv"
	"strings"
)

// Kind says how a token was recognised.
type Kind int

const (
	// KindAccount is a plex.tv account token (GET /api/v2/user knew it).
	KindAccount Kind = iota + 1
	// KindShare is a friend's share token, found in the owner's shared_servers.
	KindShare
	// KindTransient is a transient token the Plex server accepted.
	KindTransient
)

func (k Kind) String() string {
	switch k {
	case KindAccount:
		return "account"
	case KindShare:
		return "share"
	case KindTransient:
		return "transient"
	}
	return "unknown"
}

// TransientUser is the X-Forwarded-User of a request let in by a transient
// token: the Plex server vouches for the token but not for a person.
const TransientUser = "plex-transient"

// Identity is who holds a Plex token, as far as plex.tv or the Plex server said.
type Identity struct {
	Kind Kind
	// ID is the plex.tv account id (0 for a transient token).
	ID       int64
	UUID     string
	Username string
	Email    string
	// TwoFactor is the account's twoFactorEnabled; nil when plex.tv did not
	// say, which is always the case for share and transient tokens.
	TwoFactor *bool
	// Owner is set when the account is the server owner's (the account of
	// the owner token).
	Owner bool
	// Friend is set when the account is in the owner's shared_servers list.
	// For an account token it is looked up only when a rule needs it.
	Friend bool

	ownerUnknown bool // the owner's account could not be learnt; Owner is false
}

// User returns the X-Forwarded-User value: the username or the email
// (field "email"), falling back to the other, then to "plex-<id>".
func (id Identity) User(field string) string {
	if id.Kind == KindTransient {
		return TransientUser
	}
	first, second := id.Username, id.Email
	if field == "email" {
		first, second = id.Email, id.Username
	}
	for _, v := range []string{first, second} {
		if v = clean(v); v != "" {
			return v
		}
	}
	return "plex-" + strconv.FormatInt(id.ID, 10)
}

// Headers returns the identity headers /validate answers with, in canonical
// form: X-Forwarded-User (see User) and, when known, X-Forwarded-Email.
func (id Identity) Headers(userField string) map[string]string {
	h := map[string]string{http.CanonicalHeaderKey("X-Forwarded-User"): id.User(userField)}
	if e := clean(id.Email); e != "" && id.Kind != KindTransient {
		h[http.CanonicalHeaderKey("X-Forwarded-Email")] = e
	}
	return h
}

// clean drops control characters from a value plex.tv sent, so that it can
// be a header value.
func clean(v string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, v))
}
