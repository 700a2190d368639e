package plex

// Policy decides who, holding a Plex token, is allowed. forwardauth/authz
// implements it from the authz.plex_* rules; a Verifier caches its answers.
type Policy interface {
	// Decide returns whether id is allowed and, when not, why (text shown
	// to people, holding no values).
	Decide(id Identity) (allowed bool, reason string)
	// NeedsFriendship reports whether the decision for id depends on
	// id.Friend, so that the Verifier reads shared_servers only then.
	NeedsFriendship(id Identity) bool
}
