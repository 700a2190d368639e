package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// profileRoute, when Traefik serves pprof, records a CPU profile of
// Traefik while route rt is under load: it waits for the warmup, then
// profiles for the rest of the measuring window (at least one second) into
// runDir/traefik-cpu-route<ID>.pprof. The returned function waits for it.
func (r *rig) profileRoute(ctx context.Context, rt Route, o Options) func() error {
	if r.pprof == "" {
		return func() error { return nil }
	}
	done := make(chan error, 1)
	go func() {
		sleep(ctx, o.Warmup)
		seconds := max(int(o.Duration.Seconds())-1, 1)
		path := filepath.Join(r.runDir, fmt.Sprintf("traefik-cpu-route%d.pprof", rt.ID))
		done <- fetchTo(ctx, fmt.Sprintf("%sprofile?seconds=%d", r.pprof, seconds), path, time.Duration(seconds+10)*time.Second)
	}()
	return func() error { return <-done }
}

// fetchTo saves url's body to path.
func fetchTo(ctx context.Context, url, path string, timeout time.Duration) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("bench: profile: %w", err)
	}
	resp, err := (&http.Client{Timeout: timeout}).Do(req)
	if err != nil {
		return fmt.Errorf("bench: profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("bench: profile: %s answered %d", url, resp.StatusCode)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("bench: profile: %w", err)
	}
	_, err = io.Copy(f, resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
