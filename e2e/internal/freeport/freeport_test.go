package freeport

import (
	"net"
	"strconv"
	"testing"
)

func TestPickDistinctAndBindable(t *testing.T) {
	ports, err := Pick(5)
	if err != nil {
		t.Fatal(err)
	}
	if len(ports) != 5 {
		t.Fatalf("got %d ports, want 5", len(ports))
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if p <= 0 || p > 65535 {
			t.Errorf("port %d out of range", p)
		}
		if seen[p] {
			t.Errorf("port %d picked twice", p)
		}
		seen[p] = true
		if err := Check(p); err != nil {
			t.Errorf("picked port is not bindable: %v", err)
		}
	}
}

func TestCheckBusyPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	p, _ := strconv.Atoi(port)
	if err := Check(p); err == nil {
		t.Fatalf("Check(%d) = nil for a port in use", p)
	}
}
