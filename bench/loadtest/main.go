// Command loadtest measures what the gateway costs per request against
// plain Caddy reverse_proxy, in one run, with one load generator (wrk) and
// the same settings for every row. bench/run.sh builds Caddy and runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

func main() {
	caddyBin := flag.String("caddy", "", "Caddy binary with the plugin (required)")
	duration := flag.Duration("duration", 10*time.Second, "length of each load run")
	conns := flag.Int("connections", 16, "concurrent connections of each run")
	maxReq := flag.Int("max-requests", 2_000_000, "requests after which each run stops, whatever its duration")
	runs := flag.Int("runs", 2, "how many times to measure the whole table (to show the noise)")
	redisURL := flag.String("redis", "redis://127.0.0.1:6379/0", "Redis for the Redis row; empty to leave the row out")
	profile := flag.String("pprof", "", "folder to write a CPU profile of Caddy during each measured run")
	flag.Parse()
	if *caddyBin == "" {
		log.Fatal("-caddy is required")
	}
	b := &bench{caddy: *caddyBin, duration: *duration, conns: *conns, maxReq: *maxReq, redisURL: *redisURL, profile: *profile}
	if err := b.run(*runs); err != nil {
		log.Fatal(err)
	}
}

type bench struct {
	caddy    string
	duration time.Duration
	conns    int
	maxReq   int
	redisURL string
	profile  string // folder for CPU profiles, or ""
	admin    string // admin address of the Caddy being measured, when profiling
	seq      int    // numbers each Caddy's folder
	// redisCPU reads redis-server's CPU seconds, for the Redis row.
	redisCPU func() (float64, error)
	dir      string
	upstream string
	script   string
}

// row is one configuration measured.
type row struct {
	name  string
	setup func() (target string, header string, stop func(), err error)
}

// result is one wrk run.
type result struct {
	rps      float64
	p50, p99 time.Duration
	requests int64
	// redisPerReq is redis-server CPU per request, in the Redis row.
	redisPerReq time.Duration
}

func (b *bench) run(runs int) error {
	dir, err := os.MkdirTemp("", "caddy-mfa-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	b.dir = dir
	b.script, err = filepath.Abs("bench/loadtest/wrk.lua")
	if err != nil {
		return err
	}
	if b.upstream, err = startUpstream(); err != nil {
		return err
	}
	// Every row sends the app's own session cookie, as a real app's clients
	// would; rows 3 and 4 send the gateway's too (which it strips).
	appCookie := "Cookie: " + appSession
	rows := []row{
		{"1 upstream directly", func() (string, string, func(), error) { return b.upstream, appCookie, func() {}, nil }},
		{"2 Caddy reverse_proxy", b.plain},
		{"3 Caddy + mfa, embedded stores", func() (string, string, func(), error) { return b.gateway("", false) }},
	}
	if b.redisURL != "" {
		rows = append(rows, row{"4 Caddy + mfa, Redis", func() (string, string, func(), error) { return b.gateway(b.redisURL, false) }})
	}
	rows = append(rows, row{"5 Caddy + mfa, app password", func() (string, string, func(), error) { return b.gateway("", true) }})
	fmt.Printf("wrk -t1 -c%d -d%s (at most %d requests) against 127.0.0.1; %d cores\n", b.conns, b.duration, b.maxReq, numCPU())
	fmt.Println("row 5: HTTP Basic auth with an app password (embedded stores), on a route with app_passwords")
	for i := 1; i <= runs; i++ {
		fmt.Printf("\nrun %d\n%-34s %12s %10s %10s %9s %12s %12s\n", i, "row", "req/s", "p50", "p99", "ratio", "added p50", "added p99")
		var base result
		for _, r := range rows {
			res, err := b.measure(r)
			if err != nil {
				return fmt.Errorf("%s: %w", r.name, err)
			}
			if strings.HasPrefix(r.name, "2 ") {
				base = res
			}
			ratio, dp50, dp99 := "", "", ""
			if base.rps > 0 {
				ratio = fmt.Sprintf("%.3f", res.rps/base.rps)
				dp50 = (res.p50 - base.p50).String()
				dp99 = (res.p99 - base.p99).String()
			}
			fmt.Printf("%-34s %12.0f %10s %10s %9s %12s %12s\n", r.name, res.rps, res.p50, res.p99, ratio, dp50, dp99)
			if res.redisPerReq > 0 {
				fmt.Printf("%-34s redis-server used %s of CPU per request (same cores)\n", "", res.redisPerReq)
			}
		}
	}
	return nil
}

func (b *bench) measure(r row) (result, error) {
	b.redisCPU = nil
	target, header, stop, err := r.setup()
	if err != nil {
		return result{}, err
	}
	defer stop()
	// Warm up (connections, caches), then measure.
	if _, err := b.wrk(target, header, 2*time.Second); err != nil {
		return result{}, err
	}
	if b.profile != "" && b.admin != "" {
		done := make(chan error, 1)
		go func() { done <- b.cpuProfile(r.name) }()
		defer func() {
			if err := <-done; err != nil {
				log.Printf("profile of %s: %v", r.name, err)
			}
		}()
	}
	var cpu0 float64
	if b.redisCPU != nil {
		if cpu0, err = b.redisCPU(); err != nil {
			return result{}, err
		}
	}
	res, err := b.wrk(target, header, b.duration)
	if err == nil && b.redisCPU != nil && res.requests > 0 {
		cpu1, err := b.redisCPU()
		if err != nil {
			return result{}, err
		}
		res.redisPerReq = time.Duration((cpu1 - cpu0) / float64(res.requests) * 1e9)
	}
	return res, err
}

// cpuProfile saves a CPU profile of the Caddy under load.
func (b *bench) cpuProfile(name string) error {
	secs := max(1, int(b.duration.Seconds())-2)
	resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", b.admin, secs))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := os.MkdirAll(b.profile, 0o755); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(b.profile, strings.NewReplacer(" ", "-", ",", "", "+", "").Replace(name)+".pprof"))
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
}

var resultRE = regexp.MustCompile(`RESULT requests=(\d+) duration_us=(\d+) p50_us=(\d+) p99_us=(\d+) errors=(\d+) non200=(\d+)`)

func (b *bench) wrk(target, header string, d time.Duration) (result, error) {
	args := []string{"-t1", "-c" + strconv.Itoa(b.conns), "-d" + strconv.Itoa(int(d.Seconds())) + "s", "--timeout", "5s", "-s", b.script}
	if header != "" {
		args = append(args, "-H", header)
	}
	args = append(args, target+"/bench/page")
	cmd := exec.Command("wrk", args...)
	cmd.Env = append(os.Environ(), "MAX_REQUESTS="+strconv.Itoa(b.maxReq))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("wrk: %w\n%s", err, out)
	}
	m := resultRE.FindStringSubmatch(string(out))
	if m == nil {
		return result{}, fmt.Errorf("no result from wrk:\n%s", out)
	}
	n := func(i int) int64 { v, _ := strconv.ParseInt(m[i], 10, 64); return v }
	if n(5) > 0 || n(6) > 0 {
		return result{}, fmt.Errorf("%d socket errors and %d responses other than 200: the client is not signed in or the server failed\n%s", n(5), n(6), out)
	}
	return result{
		requests: n(1),
		rps:      float64(n(1)) / (float64(n(2)) / 1e6),
		p50:      time.Duration(n(3)) * time.Microsecond,
		p99:      time.Duration(n(4)) * time.Microsecond,
	}, nil
}

// startUpstream serves a small page, as an app behind the gateway would.
func startUpstream() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	body := []byte(strings.Repeat("upstream page ", 64))
	go http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(body)
	}))
	return "http://" + l.Addr().String(), nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startCaddy runs Caddy on a Caddyfile whose site listens on the returned port.
func (b *bench) startCaddy(name, caddyfile string, port int) (func(), error) {
	b.seq++
	dir := filepath.Join(b.dir, fmt.Sprintf("%s-%d", name, b.seq))
	b.admin = ""
	if b.profile != "" {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		b.admin = fmt.Sprintf("127.0.0.1:%d", p)
		caddyfile = strings.Replace(caddyfile, "admin off", "admin "+b.admin, 1)
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
	logf, err := os.Create(filepath.Join(dir, "caddy.log"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		logf.Close()
	}
	url := fmt.Sprintf("http://127.0.0.1:%d/", port)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			return stop, nil
		}
	}
	stop()
	log, _ := os.ReadFile(filepath.Join(dir, "caddy.log"))
	return nil, fmt.Errorf("caddy did not start:\n%s", log)
}

// plain is row 2: Caddy's reverse_proxy alone.
func (b *bench) plain() (string, string, func(), error) {
	port, err := freePort()
	if err != nil {
		return "", "", nil, err
	}
	cf := fmt.Sprintf("{\n\tadmin off\n\tauto_https off\n}\nhttp://127.0.0.1:%d {\n\treverse_proxy %s\n}\n", port, strings.TrimPrefix(b.upstream, "http://"))
	stop, err := b.startCaddy("plain", cf, port)
	return fmt.Sprintf("http://127.0.0.1:%d", port), "Cookie: " + appSession, stop, err
}

// gateway is rows 3, 4 and 5: the same site behind mfa, with a signed-in
// client's cookie, or (appPassword) with an app password as Basic auth.
func (b *bench) gateway(redisURL string, appPassword bool) (string, string, func(), error) {
	name := "mfa-embedded"
	route := "allow_groups staff"
	if appPassword {
		name, route = "mfa-app-password", route+"\n\t\tapp_passwords"
	}
	extra := ""
	var rdb *redis.Client
	prefix := fmt.Sprintf("mfabench:%d:", time.Now().UnixNano())
	if redisURL != "" {
		name = "mfa-redis"
		extra = fmt.Sprintf("redis {\n\t\t\turl %s\n\t\t\tkey_prefix %s\n\t\t}", redisURL, prefix)
		opt, err := redis.ParseURL(redisURL)
		if err != nil {
			return "", "", nil, err
		}
		rdb = redis.NewClient(opt)
	}
	// A fresh folder each time: the bench user must enrol anew.
	dir, err := os.MkdirTemp(b.dir, name+"-")
	if err != nil {
		return "", "", nil, err
	}
	users := filepath.Join(dir, "users.yml")
	hash, err := hashPassword(b.caddy, benchPassword)
	if err != nil {
		return "", "", nil, err
	}
	if err := os.WriteFile(users, []byte(fmt.Sprintf("users:\n  bench:\n    displayname: Bench\n    email: bench@example.com\n    groups: [staff]\n    password: %q\n", hash)), 0o600); err != nil {
		return "", "", nil, err
	}
	port, err := freePort()
	if err != nil {
		return "", "", nil, err
	}
	cf := fmt.Sprintf(`{
	admin off
	auto_https off
	mfa {
		users_file %s
		data_dir %s
		storage_key "bench-storage-key-0123456789abcdef-0123456789"
		%s
	}
}
http://127.0.0.1:%d {
	mfa {
		%s
	}
	reverse_proxy %s
}
`, users, filepath.Join(dir, "mfa"), extra, port, route, strings.TrimPrefix(b.upstream, "http://"))
	stop, err := b.startCaddy(name, cf, port)
	if err != nil {
		return "", "", nil, err
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	cookie, err := signIn(context.Background(), base, "bench", benchPassword)
	if err != nil {
		stop()
		return "", "", nil, fmt.Errorf("signing in: %w", err)
	}
	if rdb != nil {
		b.redisCPU = func() (float64, error) { return redisCPUSeconds(rdb) }
	}
	cleanup := func() {
		stop()
		if rdb != nil {
			iter := rdb.Scan(context.Background(), 0, prefix+"*", 500).Iterator()
			for iter.Next(context.Background()) {
				rdb.Del(context.Background(), iter.Val())
			}
			rdb.Close()
		}
	}
	if appPassword {
		header, err := appPasswordHeader(context.Background(), base, cookie, "bench")
		if err != nil {
			cleanup()
			return "", "", nil, fmt.Errorf("making an app password: %w", err)
		}
		return base, header, cleanup, nil
	}
	return base, "Cookie: " + appSession + "; " + cookie, cleanup, nil
}

const benchPassword = "bench password 1234"

// appSession stands for the protected app's own session cookie.
var appSession = "app_session=" + strings.Repeat("x", 150)

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

// redisCPUSeconds is redis-server's user+system CPU time so far.
func redisCPUSeconds(rdb *redis.Client) (float64, error) {
	info, err := rdb.Info(context.Background(), "cpu").Result()
	if err != nil {
		return 0, err
	}
	var total float64
	for _, line := range strings.Split(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (k == "used_cpu_sys" || k == "used_cpu_user") {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return 0, fmt.Errorf("redis INFO %s: %w", k, err)
			}
			total += f
		}
	}
	return total, nil
}
