// Package freeport finds TCP ports on the loopback interface, so that several
// stacks (parallel test packages) can run on one machine without clashing.
package freeport

import (
	"fmt"
	"net"
)

// Pick returns n distinct ports that are free on 127.0.0.1. All listeners are
// held until every port is chosen, so the ports differ from each other. They
// are not reserved afterwards; the kernel hands out ephemeral ports in a wide
// range, so a clash with the caller's later bind is rare enough to ignore.
func Pick(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("pick free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Check reports whether port can be bound on 127.0.0.1 now. Fixed ports are
// checked before anything starts, so a busy port fails fast with a clear
// message instead of a child's bind error deep in its log.
func Check(port int) error {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return fmt.Errorf("port %d is not free: %w", port, err)
	}
	return l.Close()
}
