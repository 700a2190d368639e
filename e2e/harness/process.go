package harness

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// stopGrace is how long a process gets to exit after SIGTERM before SIGKILL.
const stopGrace = 5 * time.Second

// tailLines is how many log lines a Process keeps in memory for error messages.
const tailLines = 30

// ProcessSpec describes a child process.
type ProcessSpec struct {
	// Name identifies the process in errors and names its log file.
	Name string
	// Path is the executable.
	Path string
	// Args are the arguments after the executable.
	Args []string
	// Env is added to the harness's own environment.
	Env []string
	// Dir is the working directory; empty means the harness's.
	Dir string
	// LogDir receives <Name>.log with stdout and stderr.
	LogDir string
}

// Process is a child process in its own process group.
type Process struct {
	name    string
	cmd     *exec.Cmd
	logFile *os.File
	tail    *lineRing
	done    chan struct{}
	waitErr error
}

// StartProcess starts spec. The caller must call Stop.
func StartProcess(spec ProcessSpec) (*Process, error) {
	logFile, err := os.Create(filepath.Join(spec.LogDir, spec.Name+".log"))
	if err != nil {
		return nil, fmt.Errorf("harness: %s: %w", spec.Name, err)
	}
	p := &Process{name: spec.Name, logFile: logFile, tail: &lineRing{max: tailLines}, done: make(chan struct{})}
	cmd := exec.Command(spec.Path, spec.Args...)
	cmd.Dir = spec.Dir
	cmd.Env = append(os.Environ(), spec.Env...)
	cmd.Stdout = io.MultiWriter(logFile, p.tail)
	cmd.Stderr = cmd.Stdout
	// Own process group (Stop ends its children too); SIGTERM if the harness dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("harness: start %s (%s): %w", spec.Name, spec.Path, err)
	}
	p.cmd = cmd
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Name is the name given in the spec.
func (p *Process) Name() string { return p.name }

// Tail returns the last lines the process wrote.
func (p *Process) Tail() string { return p.tail.String() }

// LogPath is the file holding everything the process wrote.
func (p *Process) LogPath() string { return p.logFile.Name() }

// Exited reports whether the process has ended, and how.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.waitErr
	default:
		return false, nil
	}
}

// Stop ends the whole process group: SIGTERM, then SIGKILL after stopGrace.
// It is safe to call more than once.
func (p *Process) Stop() {
	if p == nil || p.cmd == nil {
		return
	}
	pgid := -p.cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopGrace):
		_ = syscall.Kill(pgid, syscall.SIGKILL)
		<-p.done
	}
	// Children that ignored SIGTERM while the leader exited.
	_ = syscall.Kill(pgid, syscall.SIGKILL)
	p.logFile.Close()
}

// WaitUntil polls check every 100ms until it returns nil, the process exits,
// or timeout passes; errors name what was awaited and quote the log tail.
func (p *Process) WaitUntil(ctx context.Context, timeout time.Duration, what string, check func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		if last = check(ctx); last == nil {
			return nil
		}
		if exited, err := p.Exited(); exited {
			return fmt.Errorf("harness: %s exited (%v) before it %s: %v; last log lines:\n%s", p.name, err, what, last, p.Tail())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("harness: %s did not %s within %s: %v; last log lines (%s):\n%s", p.name, what, timeout, last, p.LogPath(), p.Tail())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// lineRing keeps the last max lines written to it.
type lineRing struct {
	mu      sync.Mutex
	max     int
	lines   []string
	partial []byte
}

func (r *lineRing) Write(b []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.partial = append(r.partial, b...)
	for {
		i := bytes.IndexByte(r.partial, '\n')
		if i < 0 {
			break
		}
		r.lines = append(r.lines, string(r.partial[:i]))
		r.partial = r.partial[i+1:]
	}
	if len(r.lines) > r.max {
		r.lines = r.lines[len(r.lines)-r.max:]
	}
	return len(b), nil
}

func (r *lineRing) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(append(r.lines, string(r.partial)), "\n")
}
