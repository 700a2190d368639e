package authz

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestDenyListEntries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "deny")
	cutoff := time.Date(2026, 12, 3, 17, 0, 0, 0, time.UTC)
	content := "# operators' list\n\nsid abc   # one session\nsub 00u-bob\n  sub 00u-carol 2026-12-03T17:00:00Z\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := LoadDenyList(path, nil, quiet)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		sid, sub        string
		signedIn        time.Time
		refused, banned bool
	}{
		{"abc", "00u-alice", cutoff, true, false},
		{"abd", "00u-alice", cutoff, false, false},
		{"x", "00u-bob", cutoff.Add(time.Hour), true, true},
		{"x", "00u-carol", cutoff.Add(-time.Second), true, false},
		{"x", "00u-carol", cutoff, false, false},
		{"x", "00U-BOB", cutoff, false, false}, // subjects are exact
	}
	for _, tc := range cases {
		if refused, banned := d.Refused(tc.sid, tc.sub, tc.signedIn); refused != tc.refused || banned != tc.banned {
			t.Errorf("%s/%s at %s: refused %v banned %v, want %v %v", tc.sid, tc.sub, tc.signedIn, refused, banned, tc.refused, tc.banned)
		}
	}
}

func TestEmptyDenyListPathRefusesNothing(t *testing.T) {
	d, err := LoadDenyList("", nil, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if refused, _ := d.Refused("abc", "00u-bob", time.Now()); refused {
		t.Fatal("refused without a list")
	}
}

func TestDenyListIsReloadedWhenItChanges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "deny")
	write := func(content string, mod time.Time) {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		_ = os.Chtimes(path, mod, mod)
	}
	base := time.Now().Truncate(time.Second)
	write("", base)
	now := base
	d, err := LoadDenyList(path, func() time.Time { return now }, quiet)
	if err != nil {
		t.Fatal(err)
	}
	write("sid abc\n", base.Add(time.Second))
	if refused, _ := d.Refused("abc", "s", now); refused {
		t.Fatal("re-read within a second of the last look")
	}
	now = now.Add(time.Second)
	if refused, _ := d.Refused("abc", "s", now); !refused {
		t.Fatal("change not seen a second later")
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Second)
	if refused, _ := d.Refused("abc", "s", now); !refused {
		t.Fatal("a removed file must keep the list in force")
	}
}

// FuzzDenyListParse: any file either parses or is refused with the line
// named; a parsed file refuses exactly its sid lines.
func FuzzDenyListParse(f *testing.F) {
	for _, seed := range []string{"sid a\n", "sub b\nsub c 2026-01-01T00:00:00Z\n", "# x\n\n", "sid\n", "sub c later\n", "sid a b\n", "\x00\r\n"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, content string) {
		path := filepath.Join(t.TempDir(), "deny")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		set, err := readDenyList(path)
		if err != nil {
			if !strings.Contains(err.Error(), path+":") {
				t.Fatalf("error without the place: %v", err)
			}
			return
		}
		for _, line := range strings.Split(content, "\n") {
			line, _, _ = strings.Cut(line, "#")
			if f := strings.Fields(line); len(f) == 2 && f[0] == "sid" && !set.sids[f[1]] {
				t.Fatalf("sid %q not refused", f[1])
			}
		}
	})
}
