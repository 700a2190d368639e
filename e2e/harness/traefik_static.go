package harness

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// StartTraefikStatic starts Traefik like StartTraefik, with the plugin
// copied under plugins-local, but with the given static configuration
// instead of static/traefik.yml. It is for runs that need their own
// entrypoints and dynamic configuration (the benchmark). Traefik runs in
// runDir/name and logs to runDir/name.log; StartTraefikStatic waits until
// pingURL answers.
func StartTraefikStatic(ctx context.Context, paths Paths, runDir, name string, static []byte, pingURL string) (*Traefik, error) {
	dir := filepath.Join(runDir, name)
	if err := copyPlugin(paths.Root, filepath.Join(dir, "plugins-local", "src", pluginModule)); err != nil {
		return nil, err
	}
	staticPath := filepath.Join(dir, "traefik.yml")
	if err := os.WriteFile(staticPath, static, 0o600); err != nil {
		return nil, fmt.Errorf("harness: traefik config: %w", err)
	}
	proc, err := StartProcess(ProcessSpec{
		Name: name, Path: paths.Traefik(), Args: []string{"--configFile=" + staticPath},
		Dir: dir, LogDir: runDir,
	})
	if err != nil {
		return nil, err
	}
	client := &http.Client{Timeout: 2 * time.Second}
	err = proc.WaitUntil(ctx, traefikStartTimeout, "answer "+pingURL, func(ctx context.Context) error {
		_, err := httpGet(ctx, client, pingURL)
		return err
	})
	if err != nil {
		proc.Stop()
		return nil, err
	}
	return &Traefik{Dir: dir, proc: proc}, nil
}

// Pid is the process id of the process (the leader of its group).
func (p *Process) Pid() int { return p.cmd.Process.Pid }
