package harness

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Metrics maps each Prometheus series, written as in the exposition format
// (`name{label="value"}`), to its value.
type Metrics map[string]float64

// Get returns the series' value, 0 when absent (a counter not yet counted).
func (m Metrics) Get(series string) float64 { return m[series] }

// ReadMetrics scrapes a Prometheus text endpoint.
func ReadMetrics(ctx context.Context, url string) (Metrics, error) {
	body, err := httpGet(ctx, &http.Client{Timeout: 5 * time.Second}, url)
	if err != nil {
		return nil, fmt.Errorf("harness: metrics: %w", err)
	}
	return parseMetrics(body)
}

func parseMetrics(body []byte) (Metrics, error) {
	m := Metrics{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			return nil, fmt.Errorf("harness: metrics: bad line %q", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("harness: metrics: bad value in %q: %w", line, err)
		}
		m[line[:i]] = v
	}
	return m, sc.Err()
}

// ForwardauthMetrics scrapes forwardauth's /metrics.
func (s *Stack) ForwardauthMetrics(ctx context.Context) (Metrics, error) {
	return ReadMetrics(ctx, s.Forwardauth.URL+"/metrics")
}

// ValidateCalls is the total of plexgate_validate_requests_total over all results.
func (m Metrics) ValidateCalls() float64 {
	var sum float64
	for series, v := range m {
		if strings.HasPrefix(series, "plexgate_validate_requests_total{") {
			sum += v
		}
	}
	return sum
}
