package config

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The README opens with the two set-up commands, and the Makefile has them.
func TestReadmeOpensWithMakeDemoAndMakeTest(t *testing.T) {
	blocks := parseSnippets("README.md", readDoc(t, "README.md"))
	if len(blocks) == 0 {
		t.Fatal("README.md has no code block")
	}
	var commands []string
	for _, line := range strings.Split(strings.TrimSpace(blocks[0].body), "\n") {
		cmd, _, _ := strings.Cut(line, "#")
		commands = append(commands, strings.TrimSpace(cmd))
	}
	if strings.Join(commands, "; ") != "make demo; make test" {
		t.Errorf("README's first code block runs %q, want make demo, then make test", commands)
	}
	makefile := readDoc(t, "Makefile")
	for _, target := range []string{"demo", "test", "release-check"} {
		if !regexp.MustCompile(`(?m)^` + target + `:`).MatchString(makefile) {
			t.Errorf("Makefile has no %s target", target)
		}
	}
}

func TestReadmeIsAtMost200Lines(t *testing.T) {
	if n := strings.Count(readDoc(t, "README.md"), "\n"); n > 200 {
		t.Errorf("README.md has %d lines; the user's README stays within 200 (put the rest in docs/)", n)
	}
}

var runTimestamp = regexp.MustCompile(`\b\d{1,2}:\d{2}( UTC)?\b|\b20\d\d-\d\d-\d\d\b`)

// README and docs/ describe the product, not its history: no run times or dates.
func TestUserDocsCarryNoTimestamps(t *testing.T) {
	for _, name := range docFiles(t) {
		for i, line := range strings.Split(readDoc(t, name), "\n") {
			clean := strings.NewReplacer(":32400", "", ":443", "", ":4181", "", ":8082", "").Replace(line)
			if m := runTimestamp.FindString(clean); m != "" && !strings.Contains(line, "://") {
				t.Errorf("%s:%d: %q looks like a time or date; history goes to CHANGELOG.md", name, i+1, m)
			}
		}
	}
}

// The quick start's commands must work on a fresh clone: the files they
// copy exist, the services they run are in the compose file, the
// forwardauth flags they pass exist, and the uid they give the secrets is
// the one the forwardauth image runs as.
func TestReadmeQuickStartMatchesTheRepository(t *testing.T) {
	var quick *snippet
	for _, s := range parseSnippets("README.md", readDoc(t, "README.md")) {
		if s.kind == "quickstart" {
			quick = &s
			break
		}
	}
	if quick == nil {
		t.Fatal("README.md has no <!-- snippet: quickstart --> block")
	}
	compose := loadCompose(t, composeEnv(nil))
	flags := forwardauthFlags(t)
	image := readDoc(t, "examples/docker-compose.yml")
	q := quickStart{dir: repoPath("."), compose: compose, flags: flags, composeText: image}
	ran := 0
	for _, line := range strings.Split(quick.body, "\n") {
		line = stripComment(line)
		for _, cmd := range strings.Split(line, "&&") {
			if fields := strings.Fields(cmd); len(fields) > 0 {
				if err := q.check(fields); err != nil {
					t.Errorf("quick start %q: %v", strings.TrimSpace(cmd), err)
				}
				ran++
			}
		}
	}
	if ran < 6 || !q.up {
		t.Errorf("the quick start has %d commands and up=%v; want the whole path to docker compose up", ran, q.up)
	}
}

// stripComment removes a shell comment ("  # …") from a line.
func stripComment(line string) string {
	if i := strings.Index(line, " #"); i >= 0 {
		return line[:i]
	}
	return line
}

// quickStart follows the quick start's commands through the repository.
type quickStart struct {
	dir         string
	compose     composeFile
	composeText string
	flags       map[string]bool
	up          bool
}

func (q *quickStart) check(f []string) error {
	switch {
	case f[0] == "git" && len(f) > 2 && f[1] == "clone":
		if !strings.HasSuffix(f[2], "/plexgate/plexgate") {
			return fmt.Errorf("clones %s, not the repository of module %s", f[2], pluginModule)
		}
	case f[0] == "cd" && len(f) == 2:
		// The clone is this repository: "plexgate/examples" is examples/ here.
		rel := strings.TrimPrefix(f[1], "plexgate/")
		q.dir = filepath.Join(q.dir, rel)
		if st, err := os.Stat(q.dir); err != nil || !st.IsDir() {
			return fmt.Errorf("no directory %s in the repository", rel)
		}
	case f[0] == "cp" && len(f) == 3:
		if _, err := os.Stat(filepath.Join(q.dir, f[1])); err != nil {
			return fmt.Errorf("copies %s, which does not exist: %v", f[1], err)
		}
	case f[0] == "docker" && len(f) > 2 && f[1] == "compose":
		return q.checkCompose(f[2:])
	case f[0] == "docker" && len(f) > 2 && f[1] == "run":
		return q.checkRun(f[2:])
	case f[0] == "sudo" && len(f) > 2 && f[1] == "chown":
		if f[2] == "65532:65532" && !strings.Contains(q.composeText, "distroless/static-debian12:nonroot") {
			return fmt.Errorf("gives the secrets to uid 65532, but the forwardauth image is not distroless nonroot")
		}
	}
	return nil
}

// checkCompose checks `docker compose SUBCOMMAND [flags] SERVICE [args]`.
func (q *quickStart) checkCompose(args []string) error {
	sub, rest := args[0], args[1:]
	if sub == "up" {
		q.up = true
		return nil
	}
	for len(rest) > 0 && strings.HasPrefix(rest[0], "-") {
		rest = rest[1:]
	}
	if len(rest) == 0 {
		return fmt.Errorf("docker compose %s names no service", sub)
	}
	if _, ok := q.compose.Services[rest[0]]; !ok {
		return fmt.Errorf("service %s is not in examples/docker-compose.yml", rest[0])
	}
	if rest[0] == "forwardauth" {
		return q.checkForwardauthArgs(rest[1:])
	}
	return nil
}

// checkRun checks `docker run [flags] IMAGE [args]` for the forwardauth image.
func (q *quickStart) checkRun(args []string) error {
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		args = args[1:]
	}
	if len(args) == 0 || !strings.Contains(q.composeText, "image: "+args[0]+"\n") {
		return fmt.Errorf("runs image %v, which the compose file does not build", args)
	}
	return q.checkForwardauthArgs(args[1:])
}

func (q *quickStart) checkForwardauthArgs(args []string) error {
	for _, a := range args {
		if a == ">" {
			break
		}
		if name, ok := strings.CutPrefix(a, "-"); ok && !q.flags[name] {
			return fmt.Errorf("forwardauth has no flag -%s", name)
		}
	}
	return nil
}
