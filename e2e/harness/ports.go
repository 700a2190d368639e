package harness

import (
	"fmt"
	"net"
)

// freePorts sets every pointer that holds 0 to a distinct TCP port on
// 127.0.0.1 that was free a moment ago; pointers that already hold a port
// (fixed ports for the demo) are kept.
func freePorts(ports ...*int) error {
	var held []net.Listener
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	for _, p := range ports {
		if *p != 0 {
			continue
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("harness: free port: %w", err)
		}
		held = append(held, l)
		*p = l.Addr().(*net.TCPAddr).Port
	}
	return nil
}
