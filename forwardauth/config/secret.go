package config

import (
	"os"
	"strings"
)

// Secret returns inline when it is set, else the content of file with its
// trailing newline trimmed: the value of a key pair such as
// oidc.client_secret / oidc.client_secret_file.
func Secret(inline, file string) ([]byte, error) {
	if inline != "" {
		return []byte(inline), nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	return []byte(strings.TrimRight(string(data), "\r\n")), nil
}
