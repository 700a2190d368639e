package config

import (
	"encoding/json"
	"testing"
)

// jsonOf renders v as JSON for failure messages.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return string(b)
}
