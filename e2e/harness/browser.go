package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// browserTimeout bounds one whole browser job.
const browserTimeout = 90 * time.Second

// BrowserStep is one step of a browser job; set exactly one field.
type BrowserStep struct {
	// Goto navigates to the URL.
	Goto string `json:"goto,omitempty"`
	// Login fills the provider's login form (and the one-time-code form
	// when it appears) and submits it.
	Login *User `json:"login,omitempty"`
	// WaitURL waits until the page's URL starts with this prefix (after
	// redirects done by scripts, such as the provider's logout form).
	WaitURL string `json:"waitURL,omitempty"`
	// Reload reloads the page this many times.
	Reload int `json:"reload,omitempty"`
	// SleepMs waits this many milliseconds (for sessions to reach their
	// refresh point).
	SleepMs int `json:"sleepMs,omitempty"`
}

// PageState is what the browser saw after a step.
type PageState struct {
	// URL is the page's address after the step.
	URL string `json:"url"`
	// Status is the HTTP status of the step's last navigation (0 if none).
	Status int `json:"status"`
	// Text is the page's visible text (at most 8000 characters).
	Text string `json:"text"`
}

// BrowserCookie is a cookie the browser holds at the end of a job.
type BrowserCookie struct {
	// Name, Domain and Value of the cookie.
	Name   string `json:"name"`
	Domain string `json:"domain"`
	Value  string `json:"value"`
}

// BrowserResult is the outcome of a job.
type BrowserResult struct {
	// OK is false when a step failed.
	OK bool `json:"ok"`
	// Error is the failed step's message ("" when OK).
	Error string `json:"error"`
	// Steps holds one PageState per completed step.
	Steps []PageState `json:"steps"`
	// Cookies are the cookies the browser held at the end.
	Cookies []BrowserCookie `json:"cookies"`
}

// Cookie returns the value of the named cookie ("" when absent).
func (r BrowserResult) Cookie(name string) string {
	for _, c := range r.Cookies {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// Browser runs jobs in fresh headless Chromium instances that trust
// Pebble's root through an NSS database.
type Browser struct {
	paths   Paths
	home    string
	workDir string
}

// NewBrowser prepares a HOME whose NSS database trusts the given root.
func NewBrowser(paths Paths, runDir, rootPEM string) (*Browser, error) {
	home := filepath.Join(runDir, "browser-home")
	nssdb := filepath.Join(home, ".pki", "nssdb")
	if err := os.MkdirAll(nssdb, 0o700); err != nil {
		return nil, fmt.Errorf("harness: browser home: %w", err)
	}
	for _, args := range [][]string{
		{"-N", "-d", "sql:" + nssdb, "--empty-password"},
		{"-A", "-d", "sql:" + nssdb, "-t", "C,,", "-n", "pebble-root", "-i", rootPEM},
	} {
		if out, err := exec.Command("certutil", args...).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("harness: certutil %s: %w: %s", args[0], err, out)
		}
	}
	return &Browser{paths: paths, home: home, workDir: runDir}, nil
}

// Run executes the steps in a new browser; name labels the job's files
// (job JSON and, on failure, a screenshot in the run directory). A failed
// step is an error that quotes the browser's message and the screenshot path.
func (b *Browser) Run(ctx context.Context, name string, steps ...BrowserStep) (BrowserResult, error) {
	ctx, cancel := context.WithTimeout(ctx, browserTimeout)
	defer cancel()
	shot := filepath.Join(b.workDir, "screenshot-"+name+".png")
	job, _ := json.Marshal(map[string]any{
		"chromium": b.paths.Chromium, "home": b.home, "screenshot": shot, "timeoutMs": 20000, "steps": steps,
	})
	jobPath := filepath.Join(b.workDir, "browser-"+name+".json")
	if err := os.WriteFile(jobPath, job, 0o600); err != nil {
		return BrowserResult{}, fmt.Errorf("harness: browser job: %w", err)
	}
	cmd := exec.CommandContext(ctx, "node", filepath.Join(b.paths.Node(), "browser.mjs"), jobPath)
	cmd.Dir = b.paths.Node()
	// node and its Chromium in their own process group, all killed on timeout.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // leftovers of a crashed job
	}
	var res BrowserResult
	if err := json.Unmarshal(bytes.TrimSpace(stdout.Bytes()), &res); err != nil {
		return res, fmt.Errorf("harness: browser %s: %v, no result (%v); stderr: %s", name, runErr, err, lastLines(stderr.String(), 10))
	}
	if !res.OK {
		return res, fmt.Errorf("harness: browser %s: %s; screenshot %s", name, res.Error, shot)
	}
	return res, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
