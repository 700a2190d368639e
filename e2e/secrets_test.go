package e2e

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/plexgate/plexgate/e2e/harness"
)

// The suite checks, after all tests, that no log of any part holds a
// secret: session tokens seen by the tests, the OIDC client secret and the
// users' passwords.
var (
	secretsMu sync.Mutex
	secrets   = map[string]string{} // value → what it is
)

// noteSecret records a value that must never appear in a log.
func noteSecret(what, value string) {
	if len(value) < 6 {
		return
	}
	secretsMu.Lock()
	defer secretsMu.Unlock()
	secrets[value] = what
}

func noteStackSecrets(s *harness.Stack) {
	noteSecret("OIDC client secret", s.Client.Secret)
	for _, u := range []harness.User{harness.Alice, harness.Bob, harness.Mallory} {
		// One-time codes are left out: six digits turn up by chance in timestamps.
		noteSecret(u.Username+"'s password", u.Password)
	}
}

// secretsInLogs lists "<log file>: <what>" for every secret found in a
// *.log file of runDir (the secrets themselves are not printed).
func secretsInLogs(runDir string) ([]string, error) {
	logs, err := filepath.Glob(filepath.Join(runDir, "*.log"))
	if err != nil {
		return nil, err
	}
	secretsMu.Lock()
	defer secretsMu.Unlock()
	var found []string
	for _, path := range logs {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("e2e: %w", err)
		}
		for value, what := range secrets {
			if strings.Contains(string(data), value) {
				found = append(found, filepath.Base(path)+": "+what)
			}
		}
	}
	sort.Strings(found)
	return found, nil
}

func TestSecretsInLogsNamesTheFileAndTheKindOfSecret(t *testing.T) {
	dir := t.TempDir()
	value := "canary-" + rand.Text()
	noteSecret("a canary token", value)
	os.WriteFile(filepath.Join(dir, "part.log"), []byte("level=info msg=login cookie="+value+"\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "other.log"), []byte("nothing here\n"), 0o600)
	found, err := secretsInLogs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0] != "part.log: a canary token" {
		t.Fatalf("found %q, want exactly the canary in part.log", found)
	}
}
