package bench

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"
)

// upstreamBody is what the upstream answers on every path but /whoami.
const upstreamBody = "hello from the upstream\n"

// upstreamHandler answers a fixed small body at once; /whoami echoes the
// X-Forwarded-User header it received, so that the sanity checks can see
// which identity a gate passed on.
func upstreamHandler() http.Handler {
	body := []byte(upstreamBody)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if r.URL.Path == "/whoami" {
			fmt.Fprintf(w, "user=%s\n", r.Header.Get("X-Forwarded-User"))
			return
		}
		_, _ = w.Write(body)
	})
}

// nullAuthHandler is the floor of every forwardAuth-based gate: it allows
// every request at once with an empty body.
func nullAuthHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	})
}

// server is an HTTP server on a free loopback port.
type server struct {
	URL string
	srv *http.Server
}

// startServer serves h on 127.0.0.1 at a free port.
func startServer(h http.Handler) (*server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bench: listen: %w", err)
	}
	s := &server{URL: "http://" + l.Addr().String(), srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}}
	go func() { _ = s.srv.Serve(l) }()
	return s, nil
}

// close stops the server.
func (s *server) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
}
