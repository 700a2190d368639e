package authz

import (
	"bufio"
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// denyListCheckEvery is the least time between two looks (a stat) at the
// deny list file: an edit takes effect within about this long.
const denyListCheckEvery = time.Second

// DenyList is the set of sessions and subjects refused from now on
// (session.deny_list_file, docs/operations.md), so that an operator can sign
// one user out everywhere without rotating the signing key. Its file holds
// one entry a line, "#" starting a comment:
//
//	sid <sid>                       refuse this session
//	sub <subject>                   refuse every session of this subject, and new sign-ins
//	sub <subject> <RFC 3339 time>   refuse the subject's sessions signed in before that time
//
// The file is looked at (one stat) at most once per second on the request
// path and re-read when its size or modification time changed: no goroutine,
// no watcher, and it works the same on every file system, a Kubernetes
// ConfigMap's symlink swap included. A file that cannot be read or parsed
// keeps the previous list and is logged. Every replica reads its own copy
// of the file, so the list is shared by sharing the file.
type DenyList struct {
	path string
	now  func() time.Time
	log  *slog.Logger

	current  atomic.Pointer[denySet]
	reload   sync.Mutex // held by the one request looking at the file
	checked  time.Time  // under reload
	mod      time.Time
	size     int64
	failures int
}

// denySet is one parsed version of the file; never modified.
type denySet struct {
	sids map[string]bool
	subs map[string]time.Time // zero: refused whatever the sign-in
}

// LoadDenyList reads the deny list at path; "" gives an empty list that
// never changes. now nil means time.Now.
func LoadDenyList(path string, now func() time.Time, log *slog.Logger) (*DenyList, error) {
	if now == nil {
		now = time.Now
	}
	d := &DenyList{path: path, now: now, log: log}
	d.current.Store(&denySet{})
	if path == "" {
		return d, nil
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("deny list: %w", err)
	}
	set, err := readDenyList(path)
	if err != nil {
		return nil, err
	}
	d.current.Store(set)
	d.checked, d.mod, d.size = now(), info.ModTime(), info.Size()
	return d, nil
}

// Refused reports whether the session sid of subject sub, signed in at
// signedIn, is on the list, and whether the subject itself is (banned: a new
// sign-in would be refused too).
func (d *DenyList) Refused(sid, sub string, signedIn time.Time) (refused, banned bool) {
	d.maybeReload()
	set := d.current.Load()
	if cutoff, ok := set.subs[sub]; ok {
		if cutoff.IsZero() {
			return true, true
		}
		if signedIn.Before(cutoff) {
			return true, false
		}
	}
	return set.sids[sid], false
}

// maybeReload re-reads the file when it changed, at most once per
// denyListCheckEvery; a request that finds another one looking goes on with
// the current list.
func (d *DenyList) maybeReload() {
	if d.path == "" || !d.reload.TryLock() {
		return
	}
	defer d.reload.Unlock()
	now := d.now()
	if now.Sub(d.checked) < denyListCheckEvery {
		return
	}
	d.checked = now
	info, err := os.Stat(d.path)
	if err == nil && info.ModTime().Equal(d.mod) && info.Size() == d.size {
		return
	}
	var set *denySet
	if err == nil {
		set, err = readDenyList(d.path)
	}
	if err != nil {
		if d.failures == 0 {
			d.log.Error("deny list not reloaded, the previous one stays in force", "err", err)
		}
		d.failures++
		return
	}
	d.mod, d.size, d.failures = info.ModTime(), info.Size(), 0
	d.current.Store(set)
	d.log.Info("deny list reloaded", "sessions", len(set.sids), "subjects", len(set.subs))
}

// readDenyList parses the file at path; an error names the line.
func readDenyList(path string) (*denySet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("deny list: %w", err)
	}
	set := &denySet{sids: map[string]bool{}, subs: map[string]time.Time{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
		case f[0] == "sid" && len(f) == 2:
			set.sids[f[1]] = true
		case f[0] == "sub" && len(f) == 2:
			set.subs[f[1]] = time.Time{}
		case f[0] == "sub" && len(f) == 3:
			t, err := time.Parse(time.RFC3339, f[2])
			if err != nil {
				return nil, fmt.Errorf("deny list: %s:%d: %q is not an RFC 3339 time such as 2026-12-03T17:00:00Z", path, n, f[2])
			}
			set.subs[f[1]] = t
		default:
			return nil, fmt.Errorf("deny list: %s:%d: want \"sid <sid>\", \"sub <subject>\" or \"sub <subject> <time>\"", path, n)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("deny list: %s: %w", path, err)
	}
	return set, nil
}
