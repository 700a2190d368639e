package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
)

// ForwardauthConfigFile is the config file the stack's forwardauth reads.
func (s *Stack) ForwardauthConfigFile() string { return s.Forwardauth.configPath }

// RestartForwardauthWith applies edit to forwardauth's decoded config file
// (JSON, which forwardauth reads as YAML), writes it back and restarts
// forwardauth. It returns a function that puts the file as it was and
// restarts forwardauth again.
func (s *Stack) RestartForwardauthWith(ctx context.Context, edit func(conf map[string]any)) (restore func(context.Context) error, err error) {
	f := s.Forwardauth
	before, err := os.ReadFile(f.configPath)
	if err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	var conf map[string]any
	if err := json.Unmarshal(before, &conf); err != nil {
		return nil, fmt.Errorf("harness: forwardauth config: %w", err)
	}
	edit(conf)
	data, _ := json.MarshalIndent(conf, "", "  ")
	restore = func(ctx context.Context) error {
		if err := os.WriteFile(f.configPath, before, 0o600); err != nil {
			return fmt.Errorf("harness: %w", err)
		}
		f.Stop()
		return f.Start(ctx)
	}
	if err := os.WriteFile(f.configPath, data, 0o600); err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	f.Stop()
	if err := f.Start(ctx); err != nil {
		_ = restore(ctx)
		return nil, err
	}
	return restore, nil
}

// Section returns the named section of a decoded config, created when absent.
func Section(conf map[string]any, name string) map[string]any {
	sec, _ := conf[name].(map[string]any)
	if sec == nil {
		sec = map[string]any{}
		conf[name] = sec
	}
	return sec
}
