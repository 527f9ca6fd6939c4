package e2e

import (
	"net"
	"net/http"
	"strings"
	"testing"
)

// A port taken by another process between freePort and Caddy's bind does
// not fail the test: the gateway moves to another.
func TestHarnessMovesATakenPort(t *testing.T) {
	g := writeGateway(t, gatewayOpts{}, testStorageKey)
	l, err := net.Listen("tcp", strings.TrimPrefix(g.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() { // it answers nothing: connections are closed at once
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	taken := g.URL
	g.start()
	if g.URL == taken || g.moved != 1 {
		t.Fatalf("gateway at %s (moved %d times), the taken one was %s", g.URL, g.moved, taken)
	}
	resp, err := http.Get(g.URL + "/.mfa/static/style.css")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d at the new port", resp.StatusCode)
	}
}
