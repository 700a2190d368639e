package plexstub

import (
	"bufio"
	"crypto/tls"
	"net"
	"sync"
	"time"
)

// sniffTimeout bounds how long a new connection may stay silent before its
// first byte decides between TLS and plain HTTP.
const sniffTimeout = 10 * time.Second

// tlsHandshakeRecord is the first byte of every TLS connection.
const tlsHandshakeRecord = 0x16

// sniffListener hands out *tls.Conn for connections that start with a TLS
// handshake and plain connections otherwise, so net/http serves both on one
// port (it completes the handshake of a *tls.Conn itself).
type sniffListener struct {
	net.Listener
	config *tls.Config
	conns  chan net.Conn
	errs   chan error
	once   sync.Once
	closed chan struct{}
}

func newSniffListener(l net.Listener, config *tls.Config) *sniffListener {
	s := &sniffListener{Listener: l, config: config, conns: make(chan net.Conn), errs: make(chan error, 1), closed: make(chan struct{})}
	go s.acceptLoop()
	return s
}

func (s *sniffListener) acceptLoop() {
	for {
		conn, err := s.Listener.Accept()
		if err != nil {
			select {
			case s.errs <- err:
			case <-s.closed:
			}
			return
		}
		go s.classify(conn)
	}
}

func (s *sniffListener) classify(conn net.Conn) {
	_ = conn.SetReadDeadline(time.Now().Add(sniffTimeout))
	br := bufio.NewReader(conn)
	first, err := br.Peek(1)
	_ = conn.SetReadDeadline(time.Time{})
	if err != nil {
		conn.Close()
		return
	}
	var out net.Conn = &peekedConn{Conn: conn, r: br}
	if first[0] == tlsHandshakeRecord {
		out = tls.Server(out, s.config)
	}
	select {
	case s.conns <- out:
	case <-s.closed:
		conn.Close()
	}
}

// Accept returns the next classified connection.
func (s *sniffListener) Accept() (net.Conn, error) {
	select {
	case c := <-s.conns:
		return c, nil
	case err := <-s.errs:
		return nil, err
	case <-s.closed:
		return nil, net.ErrClosed
	}
}

// Close stops accepting.
func (s *sniffListener) Close() error {
	s.once.Do(func() { close(s.closed) })
	return s.Listener.Close()
}

// peekedConn reads through the buffer that holds the sniffed byte.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *peekedConn) Read(b []byte) (int, error) { return c.r.Read(b) }
