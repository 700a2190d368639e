package plugin

import (
	"context"
	"io"
	"net"
	"net/http"
	"time"
)

// maxRelayBodyBytes bounds the body relayed from a denying /validate answer
// and the body drained from an allowing one.
const maxRelayBodyBytes = 16 << 10

// relayedHeaders are copied from a denying /validate answer to the client.
var relayedHeaders = []string{"Location", "Set-Cookie", "Www-Authenticate", "Content-Type", "Cache-Control"}

// delegator asks forwardauth's /validate endpoint about a request, the way
// Traefik's forwardAuth middleware does.
type delegator struct {
	url            string
	client         *http.Client
	requestHeaders []string // canonical names passed on besides Cookie and Authorization
}

// idleConnTimeout is how long an idle connection to forwardauth is kept.
const idleConnTimeout = 15 * time.Second

// newClient returns the instance's own HTTP client: its own transport (no
// proxy from the environment, so cookies go straight to forwardauth), the
// timeout on every call, and redirects returned instead of followed.
func newClient(timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		// A closure, not the method value dialer.DialContext: Yaegi
		// rejects method values of compiled types here.
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		},
		MaxIdleConns:        64,
		MaxIdleConnsPerHost: 32,
		// Short, because Traefik never closes a replaced instance: after a
		// reload the old instance's idle connections (and their goroutines)
		// linger until this timeout. Reconnecting to forwardauth is cheap.
		IdleConnTimeout:       idleConnTimeout,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
	}
	return &http.Client{
		Transport: transport,
		Timeout:   timeout,
		// Named parameters: Yaegi mis-assigns the result of an
		// interpreted func with unnamed ones.
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// ask sends GET ValidateURL for req. The X-Forwarded-* headers describe the
// request Traefik received (method, TLS state, Host, URI, peer address);
// whatever X-Forwarded-* the client sent is never passed on.
func (d *delegator) ask(req *http.Request) (*http.Response, error) {
	return d.askWith(req, "", false)
}

// askWith is ask, plus X-Plex-Token set to plexTok when it is not empty, and
// for a CORS preflight its Origin and Access-Control-Request-Method.
func (d *delegator) askWith(req *http.Request, plexTok string, preflight bool) (*http.Response, error) {
	out, err := http.NewRequestWithContext(req.Context(), http.MethodGet, d.url, nil)
	if err != nil {
		return nil, err
	}
	h := out.Header
	h.Set("X-Forwarded-Method", req.Method)
	h.Set("X-Forwarded-Proto", scheme(req))
	h.Set("X-Forwarded-Host", req.Host)
	h.Set("X-Forwarded-Uri", req.URL.RequestURI())
	h.Set("X-Forwarded-For", clientIP(req.RemoteAddr))
	copyValues(h, req.Header, "Cookie")
	copyValues(h, req.Header, "Authorization")
	for _, name := range d.requestHeaders {
		copyValues(h, req.Header, name)
	}
	if plexTok != "" {
		h[plexTokenName] = []string{plexTok}
	}
	if preflight {
		copyValues(h, req.Header, "Origin")
		copyValues(h, req.Header, "Access-Control-Request-Method")
	}
	return d.client.Do(out)
}

func copyValues(dst, src http.Header, name string) {
	if v := src.Values(name); len(v) > 0 {
		dst[name] = append([]string(nil), v...)
	}
}

func scheme(req *http.Request) string {
	if req.TLS != nil {
		return "https"
	}
	return "http"
}

// clientIP is the IP of the peer Traefik received the request from.
func clientIP(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return remoteAddr
	}
	return host
}

// identityFrom takes the configured identity headers from an allowing
// answer.
func identityFrom(names []string, answer http.Header) *identity {
	id := &identity{}
	for _, name := range names {
		if v := answer.Values(name); len(v) > 0 {
			values := append([]string(nil), v...)
			id.headers = append(id.headers, headerValue{name: name, values: values[:len(values):len(values)]})
		}
	}
	return id
}

// relay writes a denying answer to the client: its status, the headers in
// relayedHeaders (a relative Location resolved against ValidateURL, as
// Traefik's forwardAuth does) and at most maxRelayBodyBytes of its body.
func relay(rw http.ResponseWriter, resp *http.Response) {
	h := rw.Header()
	for _, name := range relayedHeaders {
		for _, v := range resp.Header.Values(name) {
			h.Add(name, v)
		}
	}
	if loc, err := resp.Location(); err == nil {
		h.Set("Location", loc.String())
	}
	h.Set("X-Content-Type-Options", "nosniff")
	rw.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(rw, io.LimitReader(resp.Body, maxRelayBodyBytes))
}

// drain reads what is left of a small body so the connection can be reused.
func drain(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, maxRelayBodyBytes))
	_ = body.Close()
}
