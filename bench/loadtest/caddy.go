package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// caddyProc is one running Caddy of a row.
type caddyProc struct {
	*proc
	// admin is its admin address when profiling, else "".
	admin string
}

// startCaddy runs Caddy on a Caddyfile (whose global options say "admin
// off") whose site listens on port, in a folder of its own under b.dir.
func (b *bench) startCaddy(name, caddyfile string, port int) (*caddyProc, error) {
	dir := filepath.Join(b.dir, name)
	admin := ""
	if b.profile != "" {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		admin = fmt.Sprintf("127.0.0.1:%d", p)
		caddyfile = strings.Replace(caddyfile, "admin off", "admin "+admin, 1)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	cf := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(cf, []byte(caddyfile), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(b.caddy, "run", "--config", cf, "--adapter", "caddyfile")
	cmd.Env = append(os.Environ(), "XDG_DATA_HOME="+filepath.Join(dir, "data"), "XDG_CONFIG_HOME="+filepath.Join(dir, "config"))
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	p, err := startProc(cmd, dir, "caddy", addr, "http://"+addr+"/")
	if err != nil {
		return nil, fmt.Errorf("caddy %s: %w", name, err)
	}
	return &caddyProc{proc: p, admin: admin}, nil
}

// hashPassword uses the built Caddy's own command.
func hashPassword(caddy, pw string) (string, error) {
	cmd := exec.Command(caddy, "mfa", "hash-password")
	cmd.Stdin = strings.NewReader(pw + "\n")
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("caddy mfa hash-password: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}
