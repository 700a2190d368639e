// Package config holds forwardauth's configuration: the Config types with
// their defaults (Default), the loader that applies the file, the
// environment and the flags in that order (Load, RegisterFlags), and the
// check that reports every problem at once, by config path (Config.Check).
package config

import (
	"errors"
	"time"
)

// Config is the whole forwardauth configuration. The YAML key of every field
// is also settable by environment variable (PLEXGATE_<UPPER_SNAKE of the
// dotted path>) and by flag (-<dotted.path>). Sources apply in the order
// defaults, file, environment, flags; see Load.
type Config struct {
	// Listen is the address the HTTP server binds. Default ":4181".
	Listen string `yaml:"listen"`
	// PublicURL is forwardauth's external base URL; the OIDC callback is
	// PublicURL+"/auth" and the login page PublicURL+"/login". Required.
	PublicURL string `yaml:"public_url"`
	// Log configures logging.
	Log LogConfig `yaml:"log"`
	// OIDC configures the OpenID provider.
	OIDC OIDCConfig `yaml:"oidc"`
	// Session configures the session cookie and token.
	Session SessionConfig `yaml:"session"`
	// Authz holds the authorization rules applied at login and on every /validate.
	Authz AuthzConfig `yaml:"authz"`
	// Headers configures the identity headers /validate answers with.
	Headers HeadersConfig `yaml:"headers"`
	// Redirect configures which return URLs are accepted.
	Redirect RedirectConfig `yaml:"redirect"`
	// Plex configures Plex tokens as a credential.
	Plex PlexConfig `yaml:"plex"`
}

// LogConfig configures log/slog output.
type LogConfig struct {
	// Level is debug, info, warn or error. Default "info".
	Level string `yaml:"level"`
	// Format is text or json. Default "text".
	Format string `yaml:"format"`
}

// OIDCConfig configures the OpenID provider and this client.
type OIDCConfig struct {
	// Issuer is the provider's issuer URL, e.g.
	// "https://dev-123456.okta.com/oauth2/default". Required.
	Issuer string `yaml:"issuer"`
	// ClientID is the OIDC client id. Required.
	ClientID string `yaml:"client_id"`
	// ClientSecret is the OIDC client secret. Set it or ClientSecretFile. No default.
	ClientSecret string `yaml:"client_secret"`
	// ClientSecretFile is a file holding the client secret (trailing newline trimmed). Default "".
	ClientSecretFile string `yaml:"client_secret_file"`
	// Scopes requested at login. Default [openid, profile, email, groups].
	Scopes []string `yaml:"scopes"`
	// UseUserinfo merges the userinfo endpoint's claims into the ID token's. Default false.
	UseUserinfo bool `yaml:"use_userinfo"`
	// CAFile is an extra PEM CA bundle trusted for the provider. Default "" (system roots only).
	CAFile string `yaml:"ca_file"`
	// EndSession enables RP-initiated logout when the provider advertises
	// end_session_endpoint. Default true.
	EndSession bool `yaml:"end_session"`
}

// SessionConfig configures the session cookie and the token it holds.
type SessionConfig struct {
	// CookieName is the session cookie's name. Default "plexgate_session".
	CookieName string `yaml:"cookie_name"`
	// CookieDomain is the session cookie's Domain, e.g. "example.com" so that
	// every subdomain receives it. Default "" (host-only cookie for the auth host).
	CookieDomain string `yaml:"cookie_domain"`
	// CookiePath is the session cookie's Path. Default "/".
	CookiePath string `yaml:"cookie_path"`
	// MaxAge is the session lifetime (cookie Max-Age and token exp). Default 12h.
	MaxAge time.Duration `yaml:"max_age"`
	// Secure sets the cookie's Secure attribute. Default true.
	Secure bool `yaml:"secure"`
	// HTTPOnly sets the cookie's HttpOnly attribute. Default true.
	HTTPOnly bool `yaml:"http_only"`
	// Issuer is the token's iss. Default: PublicURL.
	Issuer string `yaml:"issuer"`
	// Audience is the token's aud. Default "plexgate".
	Audience string `yaml:"audience"`
	// SigningKeyFile is an Ed25519 private key PEM (PKCS#8) used for EdDSA,
	// the default algorithm (create one with -genkey). Default "".
	SigningKeyFile string `yaml:"signing_key_file"`
	// VerificationKeyFiles are further Ed25519 public or private key PEMs
	// whose tokens are still accepted (key rotation). Default none.
	VerificationKeyFiles []string `yaml:"verification_key_files"`
	// HMACSecret selects HS256 with this shared secret (at least 32 bytes)
	// instead of EdDSA. Default "".
	HMACSecret string `yaml:"hmac_secret"`
	// HMACSecretFile is a file holding the HS256 secret. Default "".
	HMACSecretFile string `yaml:"hmac_secret_file"`
	// Leeway is the clock skew tolerated when checking exp/nbf/iat. Default 30s.
	Leeway time.Duration `yaml:"leeway"`
}

// AuthzConfig holds the authorization rules. A user is allowed when
// AllowAll is set or any of Emails, Domains, Groups matches; then, with
// RequireMFA, the amr/acr check must pass too.
type AuthzConfig struct {
	// AllowAll allows every authenticated user. Default false.
	AllowAll bool `yaml:"allow_all"`
	// Emails are allowed addresses (case-insensitive). Default none.
	Emails []string `yaml:"emails"`
	// Domains are allowed email domains, e.g. "example.com". Default none.
	Domains []string `yaml:"domains"`
	// Groups are allowed groups, matched against GroupsClaim. Default none.
	Groups []string `yaml:"groups"`
	// GroupsClaim is the ID-token claim holding the groups. Default "groups" (Okta).
	GroupsClaim string `yaml:"groups_claim"`
	// RequireMFA requires amr to contain one of MFAAMR or acr to be one of MFAACR. Default false.
	RequireMFA bool `yaml:"require_mfa"`
	// MFAAMR lists the amr values that prove MFA. Default [mfa].
	MFAAMR []string `yaml:"mfa_amr"`
	// MFAACR lists the acr values that prove MFA. Default none.
	MFAACR []string `yaml:"mfa_acr"`
	// PlexUsers allows these holders of a Plex token: plex.tv usernames,
	// emails (with "@") or numeric account ids (all digits: matched against
	// the id only), case-insensitive. Needs plex.enabled. Default none.
	PlexUsers []string `yaml:"plex_users"`
	// PlexFriends allows every account the server is shared with (the
	// owner's shared_servers list; needs plex.owner_token_file). Default false.
	PlexFriends bool `yaml:"plex_friends"`
	// PlexRequireTwoFactor denies a Plex account whose plex.tv profile does
	// not say twoFactorEnabled: true. It fails closed: friends' share tokens
	// and transient tokens, for which plex.tv says nothing, are denied. Default false.
	PlexRequireTwoFactor bool `yaml:"plex_require_two_factor"`
}

// HeadersConfig configures the identity headers.
type HeadersConfig struct {
	// UserClaim is the claim sent as X-Forwarded-User; falls back to sub. Default "email".
	UserClaim string `yaml:"user_claim"`
	// Claims maps further claims to header names, e.g. {given_name: X-Given-Name}. Default none.
	Claims map[string]string `yaml:"claims"`
}

// RedirectConfig configures accepted return URLs.
type RedirectConfig struct {
	// AllowedDomains are the hosts a return URL may point to: "host" matches
	// exactly, "*.suffix" matches every subdomain of suffix. Default:
	// session.cookie_domain and its subdomains (or the public_url host).
	AllowedDomains []string `yaml:"allowed_domains"`
}

// PlexConfig configures Plex tokens (X-Plex-Token header or query) as a
// credential: forwardauth learns who holds one from plex.tv or the Plex
// server and applies the authz.plex_* rules. See docs/plex.md.
type PlexConfig struct {
	// Enabled accepts Plex tokens. Default false.
	Enabled bool `yaml:"enabled"`
	// APIURL is plex.tv's base URL (tests point it at a stand-in). Default "https://plex.tv".
	APIURL string `yaml:"api_url"`
	// ServerURL is the Plex server as forwardauth reaches it: its /identity
	// gives the machine identifier when ServerID is empty, and transient
	// tokens are checked there. "" turns transient tokens off. Default "http://plex:32400".
	ServerURL string `yaml:"server_url"`
	// ServerID is the server's machineIdentifier. Default "" (read from ServerURL).
	ServerID string `yaml:"server_id"`
	// OwnerTokenFile holds the server owner's plex.tv token (Preferences.xml
	// PlexOnlineToken). It tells the owner apart and reads shared_servers;
	// needed for authz.plex_friends and for the owner on TokenPaths. Default "".
	OwnerTokenFile string `yaml:"owner_token_file"`
	// CacheTTL is how long an allowed verdict is kept (denied ones: 1m). Default 10m.
	CacheTTL time.Duration `yaml:"cache_ttl"`
	// RefreshInterval is the least time between two reads of shared_servers. Default 5m.
	RefreshInterval time.Duration `yaml:"refresh_interval"`
	// TokenPaths are the Plex paths that hand out tokens: there a request
	// carrying a Plex token is allowed only when the token is the owner's.
	// Empty turns the check off. Default ["/myplex/", "/security/token"].
	TokenPaths []string `yaml:"token_paths"`
	// UserField is what X-Forwarded-User holds for a Plex token: the plex.tv
	// "username" or "email". Default "username".
	UserField string `yaml:"user_field"`
}

// Default returns a Config holding every default.
func Default() Config {
	return Config{
		Listen: ":4181",
		Log:    LogConfig{Level: "info", Format: "text"},
		OIDC: OIDCConfig{
			Scopes:     []string{"openid", "profile", "email", "groups"},
			EndSession: true,
		},
		Session: SessionConfig{
			CookieName: "plexgate_session",
			CookiePath: "/",
			MaxAge:     12 * time.Hour,
			Secure:     true,
			HTTPOnly:   true,
			Audience:   "plexgate",
			Leeway:     30 * time.Second,
		},
		Authz:   AuthzConfig{GroupsClaim: "groups", MFAAMR: []string{"mfa"}},
		Headers: HeadersConfig{UserClaim: "email"},
		Plex: PlexConfig{
			APIURL: "https://plex.tv", ServerURL: "http://plex:32400",
			CacheTTL: 10 * time.Minute, RefreshInterval: 5 * time.Minute,
			TokenPaths: []string{"/myplex/", "/security/token"}, UserField: "username",
		},
	}
}

// Load builds the configuration: defaults, then the YAML file (when
// path is not empty), then the environment, then the flag values that were
// set on the command line (dotted path → raw value, as collected by
// RegisterFlags). env nil means no environment. A value that cannot be
// used (an unknown key, a wrong type) is a problem named by its config
// path: all of them come back at once as an *Error, with everything else
// applied. An unreadable file or broken YAML is an error of its own.
func Load(path string, env func(string) (string, bool), flags map[string]string) (Config, error) {
	cfg := Default()
	var p Problems
	if path != "" {
		fp, err := decodeFile(path, &cfg)
		if err != nil {
			return cfg, err
		}
		p = append(p, fp...)
	}
	p = append(p, applyEnv(&cfg, env)...)
	p = append(p, applyFlags(&cfg, flags)...)
	return cfg, p.Err()
}

// LoadAndCheck is Load, then Check and CheckFiles: every problem of the
// sources, of the values and of the files they name in one *Error (unless
// the configuration file itself cannot be read or parsed).
func LoadAndCheck(path string, env func(string) (string, bool), flags map[string]string) (Config, error) {
	cfg, err := Load(path, env, flags)
	var loaded *Error
	if err != nil && !errors.As(err, &loaded) {
		return cfg, err
	}
	var p Problems
	if loaded != nil {
		p = append(p, loaded.Problems...)
	}
	for _, check := range []func() error{cfg.Check, cfg.CheckFiles} {
		if err := check(); err != nil {
			p = append(p, ProblemsOf(err)...)
		}
	}
	return cfg, p.Err()
}
