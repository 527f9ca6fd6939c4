package slapdtest

import (
	"net"
	"testing"
)

// Silent starts a TCP listener on loopback that accepts connections and
// never answers (a directory that hangs), and returns its address; it is
// closed, with the connections it holds, when the test ends.
func Silent(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	held := make(chan net.Conn, 64)
	t.Cleanup(func() {
		_ = l.Close()
		close(held)
		for c := range held {
			_ = c.Close()
		}
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			select {
			case held <- c:
			default:
				_ = c.Close()
			}
		}
	}()
	return l.Addr().String()
}
