package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// proc is a child process of the bench.
type proc struct {
	cmd  *exec.Cmd
	logf *os.File
	// addr is where it serves (host:port).
	addr string
	// logPath is the file of its output.
	logPath string
}

// logTail is the last n lines of the process's output.
func (p *proc) logTail(n int) string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// stop interrupts the process and waits for it.
func (p *proc) stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	_ = p.cmd.Wait()
	p.logf.Close()
}

// pid is the process's id, for its CPU.
func (p *proc) pid() int { return p.cmd.Process.Pid }

// startProc starts cmd with its output in dir/name.log and waits until
// url answers.
func startProc(cmd *exec.Cmd, dir, name, addr, url string) (*proc, error) {
	logPath := filepath.Join(dir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{cmd: cmd, logf: logf, addr: addr, logPath: logPath}
	c := &http.Client{Timeout: 2 * time.Second}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if resp, err := c.Get(url); err == nil {
			resp.Body.Close()
			return p, nil
		}
	}
	p.stop()
	out, _ := os.ReadFile(logPath)
	return nil, fmt.Errorf("%s did not start:\n%s", name, out)
}
