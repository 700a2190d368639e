package bench

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// cookieCounter counts the session cookies it receives and answers status.
type cookieCounter struct {
	mu     sync.Mutex
	seen   map[string]int
	status int
	close  bool
}

func (c *cookieCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c.mu.Lock()
	if ck, err := r.Cookie("s"); err == nil {
		c.seen[ck.Value]++
	}
	c.mu.Unlock()
	if c.close {
		w.Header().Set("Connection", "close")
	}
	w.WriteHeader(c.status)
	_, _ = w.Write([]byte("body"))
}

func TestLoadSendsExactlyRequestsCyclingTheTokens(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		close      bool
		wantNon200 int
	}{
		{"keep-alive 200", 200, false, 0},
		{"server closes every connection", 200, true, 0},
		{"denials are counted", 403, false, 99},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			counter := &cookieCounter{seen: map[string]int{}, status: tt.status, close: tt.close}
			srv := httptest.NewServer(counter)
			defer srv.Close()
			l := Load{Addr: strings.TrimPrefix(srv.URL, "http://"), Host: "x.test", Cookie: "s",
				Tokens: []string{"a", "b", "c"}, Conns: 4, Requests: 99}
			s, err := l.Run(context.Background())
			if err != nil || s.Errors != 0 {
				t.Fatalf("Run: %v, %d errors (%v)", err, s.Errors, s.FirstError)
			}
			if s.Requests != 99 || s.Non200 != tt.wantNon200 || len(s.Latencies) != 99 {
				t.Errorf("got %d requests, %d non-200, %d latencies; want 99, %d, 99", s.Requests, s.Non200, len(s.Latencies), tt.wantNon200)
			}
			for _, tok := range []string{"a", "b", "c"} {
				if counter.seen[tok] != 33 {
					t.Errorf("token %s sent %d times, want 33", tok, counter.seen[tok])
				}
			}
		})
	}
}

func TestLoadMeasuresOnlyAfterWarmup(t *testing.T) {
	counter := &cookieCounter{seen: map[string]int{}, status: 200}
	srv := httptest.NewServer(counter)
	defer srv.Close()
	l := Load{Addr: strings.TrimPrefix(srv.URL, "http://"), Host: "x.test", Conns: 2,
		Warmup: 100 * time.Millisecond, Duration: 200 * time.Millisecond}
	s, err := l.Run(context.Background())
	if err != nil || s.Errors != 0 {
		t.Fatalf("Run: %v, %d errors (%v)", err, s.Errors, s.FirstError)
	}
	if s.Elapsed < l.Duration {
		t.Errorf("measured for %s, want at least %s", s.Elapsed, l.Duration)
	}
	if s.Requests == 0 || s.Requests != len(s.Latencies) {
		t.Errorf("got %d requests and %d latencies, want the same positive number", s.Requests, len(s.Latencies))
	}
}

func TestLoadReportsAnUnreachableServer(t *testing.T) {
	l := Load{Addr: "127.0.0.1:1", Host: "x.test", Conns: 2, Requests: 10}
	s, _ := l.Run(context.Background())
	if s.Errors != 2 || s.FirstError == nil {
		t.Errorf("got %d errors (%v), want 2 with a first error", s.Errors, s.FirstError)
	}
}

func TestReadResponse(t *testing.T) {
	tests := []struct {
		name       string
		raw        string
		wantStatus int
		wantKeep   bool
		wantErr    bool
	}{
		{"content length", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", 200, true, false},
		{"lower-case header", "HTTP/1.1 302 Found\r\ncontent-length: 0\r\n\r\n", 302, true, false},
		{"connection close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx", 200, false, false},
		{"no content needs no length", "HTTP/1.1 204 No Content\r\n\r\n", 204, true, false},
		{"chunked is refused", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 0, false, true},
		{"bad status line", "HTTP/1.0 200 OK\r\n\r\n", 0, false, true},
		{"bad length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 0, false, true},
		{"short body", "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab", 0, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, keep, err := readResponse(bufio.NewReader(strings.NewReader(tt.raw)))
			if (err != nil) != tt.wantErr || status != tt.wantStatus || keep != tt.wantKeep {
				t.Errorf("got %d, %t, %v; want %d, %t, error %t", status, keep, err, tt.wantStatus, tt.wantKeep, tt.wantErr)
			}
		})
	}
}

func TestPercentileIsNearestRank(t *testing.T) {
	s := Sample{}
	for i := 1; i <= 100; i++ {
		s.Latencies = append(s.Latencies, time.Duration(i))
	}
	tests := []struct {
		q    float64
		want time.Duration
	}{{0.5, 50}, {0.99, 99}, {1, 100}, {0.001, 1}}
	for _, tt := range tests {
		if got := s.Percentile(tt.q); got != tt.want {
			t.Errorf("Percentile(%g) = %d, want %d", tt.q, got, tt.want)
		}
	}
	if got := (Sample{}).Percentile(0.5); got != 0 {
		t.Errorf("empty sample: got %d, want 0", got)
	}
}
