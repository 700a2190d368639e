// Command plexstub runs the stand-in Plex Media Server on its own: plain
// HTTP and TLS (certificate *.<hash>.plex.direct from its own CA) on one
// port, like Plex on 32400.
//
//	plexstub -listen 127.0.0.1:32400
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/plexgate/plexgate/e2e/plexstub"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:32400", "address to serve plain HTTP and TLS on")
	flag.Parse()
	if err := run(*listen); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(listen string) error {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	s, err := plexstub.New(plexstub.Options{Logger: logger})
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("plexstub: %w", err)
	}
	logger.Info("plexstub: serving", "addr", l.Addr().String(), "tls_name", s.PlexDirectName())
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
		<-sig
		s.Close()
	}()
	return s.Serve(l)
}
