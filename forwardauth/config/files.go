package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// ContainerUID is the user the forwardauth image runs as (distroless
// nonroot): secret files mounted into the container must be readable by it.
const ContainerUID = 65532

// CheckFiles reads every file the configuration names (client secret, CA
// bundle, signing and verification keys, HS256 secret) and reports, by key
// and all at once, each one the process cannot use, with the fix: a file
// this user may not read, a missing file, an HS256 secret that is too
// short. Unlike Check it reads the files, and nothing else.
func (c *Config) CheckFiles() error { return c.checkFiles(os.ReadFile) }

func (c *Config) checkFiles(read func(string) ([]byte, error)) error {
	var p Problems
	files := map[string][]string{
		"oidc.client_secret_file":        {c.OIDC.ClientSecretFile},
		"oidc.ca_file":                   {c.OIDC.CAFile},
		"session.signing_key_file":       {c.Session.SigningKeyFile},
		"session.verification_key_files": c.Session.VerificationKeyFiles,
		"session.hmac_secret_file":       {c.Session.HMACSecretFile},
	}
	for _, key := range []string{"oidc.client_secret_file", "oidc.ca_file", "session.signing_key_file", "session.verification_key_files", "session.hmac_secret_file"} {
		for _, path := range files[key] {
			if path == "" {
				continue
			}
			data, err := read(path)
			if err != nil {
				p.Addf(key, "%s", fileProblem(path, err))
				continue
			}
			if key == "session.hmac_secret_file" {
				if n := len(strings.TrimRight(string(data), "\r\n")); n < MinHMACSecret {
					p.Addf(key, "%s holds %d bytes, HS256 needs at least %d: create a new one with  head -c 32 /dev/urandom | base64 > %s", path, n, MinHMACSecret, path)
				}
			}
		}
	}
	return p.Err()
}

// fileProblem says why path cannot be read and what to do about it.
func fileProblem(path string, err error) string {
	switch {
	case errors.Is(err, fs.ErrPermission):
		return fmt.Sprintf("%s cannot be read by this process (%s); the forwardauth image runs as the distroless nonroot user, uid %d: give that user the file on the host, e.g. with the shipped compose file  sudo chown %d:%d secrets/* && sudo chmod 0400 secrets/*",
			path, whoAmI(), ContainerUID, ContainerUID, ContainerUID)
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Sprintf("%s does not exist: create it, or mount it into the container (compose: the secrets: section)", path)
	}
	return err.Error()
}

func whoAmI() string {
	uid := os.Getuid()
	if uid == ContainerUID {
		return fmt.Sprintf("uid %d, the image's nonroot user", uid)
	}
	return fmt.Sprintf("uid %d", uid)
}
