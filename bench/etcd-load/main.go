// etcd-load: a load generator for etcd v3 servers (Debian etcd, `metastore serve`) that follows
// the methodology of etcd's own `tools/benchmark`:
//
//   - M gRPC connections (--conns), each one clientv3.Client; N clients (--clients) spread over
//     them round-robin (client i uses connection i % M), each with one request in flight;
//   - a generator feeds a channel of requests that the clients drain; every request is awaited
//     and timed from just before the call to its return;
//   - throughput = successful requests / wall time of the measured phase; latency percentiles
//     over the successful requests; errors counted apart.
//
// Workloads:
//
//	put    --total puts of --key-size-byte keys and --val-size-byte values, keys sequential
//	       (--sequential-keys: i mod key space) or uniformly random over --key-space
//	range  --total single-key gets of existing keys (random over --key-space), linearizable
//	       (--consistency l, etcd's default) or serializable (s); --populate writes the key space
//	       first when it is not there (outside the measurement)
//	wait   retries a get until the server answers (readiness probe), then exits 0
//
// Beyond etcd's tool: a warm-up (--warmup requests through the same clients, not measured), the
// server's CPU time per op (/proc/<--server-pid>/stat utime+stime before and after the measured
// phase), the load generator's own CPU per op, ops per WAL fsync (the Prometheus counter
// --fsync-metric read from --metrics-url before and after), and a check of what was written
// (revision delta and a count of the keys in the run's key range). Output: one JSON object.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/bits"
	"math/rand"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
)

type config struct {
	endpoints    []string
	conns        int
	clients      int
	total        int
	warmup       int
	keySize      int
	valSize      int
	keySpace     int
	keyPrefix    string
	sequential   bool
	consistency  string
	populate     bool
	serverPid    int
	metricsURL   string
	fsyncMetric  string
	extraMetrics []string
	timeout      time.Duration
	dialTimeout  time.Duration
	maxDuration  time.Duration
	seed         int64
	verify       bool
	out          string
	label        string
	cpuProfile   string
}

func main() {
	// The generator shares the machine's cores with the server it measures: a lazier GC takes
	// ~20% off its CPU per request (measured: ~27 -> ~21 µs per awaited put at 256 clients).
	// GOGC in the environment still wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	cfg, workload, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "etcd-load: %v\n", err)
		os.Exit(2)
	}
	if err := run(cfg, workload); err != nil {
		fmt.Fprintf(os.Stderr, "etcd-load: %v\n", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (*config, string, error) {
	fs := flag.NewFlagSet("etcd-load", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: etcd-load [flags] put|range|wait [flags]\n\n")
		fs.PrintDefaults()
	}
	cfg := &config{}
	endpoints := fs.String("endpoints", "127.0.0.1:2379", "comma-separated host:port list; connection i dials endpoint i mod len")
	fs.IntVar(&cfg.conns, "conns", 1, "gRPC connections (clientv3.Client instances)")
	fs.IntVar(&cfg.clients, "clients", 1, "concurrent clients, each with one awaited request in flight, spread round-robin over the connections")
	fs.IntVar(&cfg.total, "total", 10000, "measured requests")
	fs.IntVar(&cfg.warmup, "warmup", -1, "warm-up requests before the measurement (-1: total/10, at most 2000, at least clients)")
	fs.IntVar(&cfg.keySize, "key-size", 16, "key size in bytes (prefix + zero-padded decimal index)")
	fs.IntVar(&cfg.valSize, "val-size", 100, "value size in bytes (put, populate)")
	fs.IntVar(&cfg.keySpace, "key-space", 0, "number of distinct keys (0: --total for put, 10000 for range)")
	fs.StringVar(&cfg.keyPrefix, "key-prefix", "k", "key prefix; the run's keys are prefix + index, the warm-up's (put) '_' + prefix + index")
	fs.BoolVar(&cfg.sequential, "sequential-keys", false, "put: key i mod key-space instead of a uniformly random key")
	fs.StringVar(&cfg.consistency, "consistency", "l", "range: l (linearizable) or s (serializable)")
	fs.BoolVar(&cfg.populate, "populate", false, "range: write the key space first (outside the measurement) unless it is all there")
	fs.IntVar(&cfg.serverPid, "server-pid", 0, "server process id: its CPU time (/proc/<pid>/stat) before and after the measured phase")
	fs.StringVar(&cfg.metricsURL, "metrics-url", "", "the server's Prometheus /metrics URL (for ops per fsync)")
	fs.StringVar(&cfg.fsyncMetric, "fsync-metric", "etcd_disk_wal_fsync_duration_seconds_count", "counter of WAL fsyncs on --metrics-url")
	extra := fs.String("extra-metrics", "etcd_disk_backend_commit_duration_seconds_count", "comma-separated further counters whose deltas are reported")
	fs.DurationVar(&cfg.timeout, "timeout", 10*time.Second, "per-request timeout (a timed-out request counts as an error)")
	fs.DurationVar(&cfg.dialTimeout, "dial-timeout", 5*time.Second, "connection timeout")
	fs.DurationVar(&cfg.maxDuration, "max-duration", 5*time.Minute, "upper bound of the measured phase: the generator stops issuing requests after it (the result says so)")
	fs.Int64Var(&cfg.seed, "seed", 1, "seed of the random keys (client i uses seed + i)")
	fs.BoolVar(&cfg.verify, "verify", true, "put: after the run, compare the revision delta and the keys in the run's key range with what was acknowledged")
	fs.StringVar(&cfg.out, "out", "", "write the JSON result to this file instead of stdout")
	fs.StringVar(&cfg.label, "label", "", "free text copied into the result")
	fs.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write a Go CPU profile of the measured phase to this file (go tool pprof)")

	if err := fs.Parse(args); err != nil {
		return nil, "", err
	}
	// Flags may also follow the workload name (etcd's tool: `benchmark [global] put [flags]`).
	rest := fs.Args()
	if len(rest) == 0 {
		fs.Usage()
		return nil, "", errors.New("no workload (put, range or wait)")
	}
	workload := rest[0]
	if err := fs.Parse(rest[1:]); err != nil {
		return nil, "", err
	}
	if fs.NArg() > 0 {
		return nil, "", fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	cfg.endpoints = splitList(*endpoints)
	cfg.extraMetrics = splitList(*extra)
	switch workload {
	case "put", "range", "wait":
	default:
		return nil, "", fmt.Errorf("unknown workload %q (put, range or wait)", workload)
	}
	if len(cfg.endpoints) == 0 {
		return nil, "", errors.New("--endpoints is empty")
	}
	if cfg.conns < 1 || cfg.clients < 1 || cfg.total < 1 {
		return nil, "", errors.New("--conns, --clients and --total must be at least 1")
	}
	if cfg.conns > cfg.clients {
		cfg.conns = cfg.clients // etcd's tool would open connections no client uses
	}
	if cfg.keySpace == 0 {
		if workload == "range" {
			cfg.keySpace = 10000
		} else {
			cfg.keySpace = cfg.total
		}
	}
	if cfg.keySpace < 1 {
		return nil, "", errors.New("--key-space must be at least 1")
	}
	if cfg.warmup < 0 {
		cfg.warmup = min(cfg.total/10, 2000)
		cfg.warmup = max(cfg.warmup, cfg.clients)
	}
	digits := len(strconv.Itoa(cfg.keySpace - 1))
	warmDigits := len(strconv.Itoa(max(cfg.warmup, cfg.keySpace) - 1))
	if len(cfg.keyPrefix)+max(digits, warmDigits)+1 > cfg.keySize {
		return nil, "", fmt.Errorf("--key-size %d cannot hold prefix %q, '_' and %d digits", cfg.keySize, cfg.keyPrefix, max(digits, warmDigits))
	}
	if cfg.consistency != "l" && cfg.consistency != "s" {
		return nil, "", fmt.Errorf("--consistency must be l or s, not %q", cfg.consistency)
	}
	return cfg, workload, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// key returns prefix + the index zero-padded to size bytes.
func key(prefix string, size, i int) string {
	return fmt.Sprintf("%s%0*d", prefix, size-len(prefix), i)
}

// prefixEnd is etcd's clientv3.GetPrefixRangeEnd: the first key after every key with prefix.
func prefixEnd(prefix string) string {
	end := []byte(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return string(end[:i+1])
		}
	}
	return "\x00"
}

// value returns deterministic printable bytes (etcd's tool: one random value for every put).
func value(size int, seed int64) string {
	r := rand.New(rand.NewSource(seed))
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, size)
	for i := range b {
		b[i] = alphabet[r.Intn(len(alphabet))]
	}
	return string(b)
}

func dial(cfg *config) ([]*clientv3.Client, error) {
	conns := make([]*clientv3.Client, cfg.conns)
	for i := range conns {
		c, err := clientv3.New(clientv3.Config{
			Endpoints:   []string{cfg.endpoints[i%len(cfg.endpoints)]},
			DialTimeout: cfg.dialTimeout,
			// Fail the dial instead of returning a client that is not connected yet.
			DialOptions: []grpc.DialOption{grpc.WithBlock()},
			Logger:      zap.NewNop(),
		})
		if err != nil {
			for _, d := range conns[:i] {
				d.Close()
			}
			return nil, fmt.Errorf("connection %d to %s: %w", i, cfg.endpoints[i%len(cfg.endpoints)], err)
		}
		conns[i] = c
	}
	return conns, nil
}

// phase runs n requests through the clients (client i on connection i % M), as etcd's tool
// does: a generator goroutine feeds a channel with room for one request per client.
// do(client, clientIndex, requestIndex) performs one request and returns its error.
type phaseResult struct {
	lats    []int64 // ns, successful requests only, unsorted
	errs    int64
	errText map[string]int
	wall    time.Duration
	issued  int
	cutOff  bool
}

func phase(conns []*clientv3.Client, clients, n int, maxDur time.Duration, do func(c *clientv3.Client, client, req int) error) *phaseResult {
	requests := make(chan int, clients)
	lats := make([]int64, n)
	ok := make([]bool, n)
	var errs atomic.Int64
	var mu sync.Mutex
	errText := map[string]int{}
	var wg sync.WaitGroup
	start := time.Now()
	for ci := 0; ci < clients; ci++ {
		wg.Add(1)
		go func(ci int, c *clientv3.Client) {
			defer wg.Done()
			for req := range requests {
				st := time.Now()
				err := do(c, ci, req)
				d := time.Since(st)
				if err != nil {
					errs.Add(1)
					mu.Lock()
					if len(errText) < 8 {
						errText[err.Error()]++
					} else if _, seen := errText[err.Error()]; seen {
						errText[err.Error()]++
					}
					mu.Unlock()
					continue
				}
				lats[req] = int64(d)
				ok[req] = true
			}
		}(ci, conns[ci%len(conns)])
	}
	issued := 0
	cutOff := false
	deadline := start.Add(maxDur)
	for i := 0; i < n; i++ {
		if i&1023 == 0 && time.Now().After(deadline) {
			cutOff = true
			break
		}
		requests <- i
		issued++
	}
	close(requests)
	wg.Wait()
	wall := time.Since(start)
	out := make([]int64, 0, issued)
	for i := 0; i < issued; i++ {
		if ok[i] {
			out = append(out, lats[i])
		}
	}
	return &phaseResult{lats: out, errs: errs.Load(), errText: errText, wall: wall, issued: issued, cutOff: cutOff}
}

// procCPU returns utime+stime of a process in seconds (/proc/<pid>/stat fields 14 and 15, in
// USER_HZ ticks; USER_HZ is 100 on every Linux architecture the project builds for).
func procCPU(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("malformed /proc stat")
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	ut, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("bad utime/stime in /proc stat")
	}
	return (ut + st) / 100, nil
}

// procRSS returns VmRSS of a process in bytes.
func procRSS(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			fields := strings.Fields(rest)
			if len(fields) >= 1 {
				kb, _ := strconv.ParseInt(fields[0], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

func selfCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

// scrape reads the named counters from a Prometheus text endpoint (the sum over their label
// sets). A counter the endpoint does not expose is absent from the map.
func scrape(url string, names []string) (map[string]float64, error) {
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body)
		return nil, fmt.Errorf("%s: HTTP %d", url, resp.StatusCode)
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		name := line
		if i := strings.IndexAny(line, "{ "); i >= 0 {
			name = line[:i]
		}
		if !want[name] {
			continue
		}
		// The value follows the name or the closing brace of the labels.
		rest := line[len(name):]
		if strings.HasPrefix(rest, "{") {
			j := strings.LastIndexByte(rest, '}')
			if j < 0 {
				continue
			}
			rest = rest[j+1:]
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			continue
		}
		out[name] += v
	}
	return out, sc.Err()
}

// latency in µs.
type latency struct {
	Min  float64 `json:"min"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
}

func summarize(lats []int64) latency {
	if len(lats) == 0 {
		return latency{}
	}
	sort.Slice(lats, func(i, j int) bool { return lats[i] < lats[j] })
	// As etcd's pkg/report: the first sorted latency whose index i has i/n >= p.
	q := func(p float64) float64 {
		i := int(math.Ceil(p * float64(len(lats))))
		i = max(0, min(i, len(lats)-1))
		return float64(lats[i]) / 1e3
	}
	var sum float64
	for _, l := range lats {
		sum += float64(l)
	}
	r2 := func(x float64) float64 { return math.Round(x*10) / 10 }
	return latency{
		Min: r2(float64(lats[0]) / 1e3), Mean: r2(sum / float64(len(lats)) / 1e3),
		P50: r2(q(0.50)), P90: r2(q(0.90)), P99: r2(q(0.99)), P999: r2(q(0.999)), Max: r2(float64(lats[len(lats)-1]) / 1e3),
	}
}

type result struct {
	Tool        string             `json:"tool"`
	Label       string             `json:"label,omitempty"`
	Workload    string             `json:"workload"`
	Endpoints   []string           `json:"endpoints"`
	Conns       int                `json:"conns"`
	Clients     int                `json:"clients"`
	Total       int                `json:"total"`
	Issued      int                `json:"issued"`
	CutOff      bool               `json:"cutOff,omitempty"`
	Warmup      int                `json:"warmup"`
	KeySize     int                `json:"keySize"`
	ValSize     int                `json:"valSize,omitempty"`
	KeySpace    int                `json:"keySpace"`
	KeyPrefix   string             `json:"keyPrefix"`
	Sequential  bool               `json:"sequentialKeys,omitempty"`
	Consistency string             `json:"consistency,omitempty"`
	Populated   *int               `json:"populated,omitempty"`
	Ops         int                `json:"ops"`
	Errors      int64              `json:"errors"`
	ErrorText   map[string]int     `json:"errorText,omitempty"`
	Misses      int64              `json:"misses,omitempty"`
	Seconds     float64            `json:"seconds"`
	OpsPerSec   float64            `json:"opsPerSec"`
	LatencyUs   latency            `json:"latencyUs"`
	Server      *serverStats       `json:"server,omitempty"`
	ClientCPU   float64            `json:"clientCpuUsPerOp"`
	Fsync       map[string]any     `json:"fsync,omitempty"`
	Metrics     map[string]float64 `json:"metricDeltas,omitempty"`
	Verify      map[string]any     `json:"verify,omitempty"`
	Notes       []string           `json:"notes,omitempty"`
}

type serverStats struct {
	Pid          int     `json:"pid"`
	CPUSeconds   float64 `json:"cpuSeconds"`
	CPUUsPerOp   float64 `json:"cpuUsPerOp"`
	CPUCoresUsed float64 `json:"cpuCoresUsed"`
	RSSBytes     int64   `json:"rssBytes"`
}

func run(cfg *config, workload string) error {
	conns, err := dialWithRetry(cfg, workload)
	if err != nil {
		return err
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	// Interrupted runs still close their connections.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		for _, c := range conns {
			c.Close()
		}
		os.Exit(130)
	}()

	if workload == "wait" {
		return waitReady(conns[0], cfg)
	}

	res := &result{
		Tool: "etcd-load", Label: cfg.label, Workload: workload, Endpoints: cfg.endpoints, Conns: cfg.conns, Clients: cfg.clients,
		Total: cfg.total, Warmup: cfg.warmup, KeySize: cfg.keySize, KeySpace: cfg.keySpace, KeyPrefix: cfg.keyPrefix,
	}
	val := value(cfg.valSize, cfg.seed)
	rngs := make([]*rand.Rand, cfg.clients)
	for i := range rngs {
		rngs[i] = rand.New(rand.NewSource(cfg.seed + int64(i)))
	}
	reqCtx := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), cfg.timeout)
	}

	var measured func(c *clientv3.Client, ci, req int) error
	var warm func(c *clientv3.Client, ci, req int) error
	var written []atomic.Uint64 // put: bitset of the key indexes acknowledged
	var misses atomic.Int64
	switch workload {
	case "put":
		res.ValSize = cfg.valSize
		res.Sequential = cfg.sequential
		written = make([]atomic.Uint64, (cfg.keySpace+63)/64)
		// Keys are drawn by the client that sends them (etcd's tool draws them in the generator
		// goroutine; the distribution is the same, one goroutine fewer on the 2 cores).
		measured = func(c *clientv3.Client, ci, req int) error {
			k := req % cfg.keySpace
			if !cfg.sequential {
				k = rngs[ci].Intn(cfg.keySpace)
			}
			ctx, cancel := reqCtx()
			defer cancel()
			_, err := c.Put(ctx, key(cfg.keyPrefix, cfg.keySize, k), val)
			if err == nil {
				written[k/64].Or(1 << (k % 64))
			}
			return err
		}
		warm = func(c *clientv3.Client, ci, req int) error {
			ctx, cancel := reqCtx()
			defer cancel()
			_, err := c.Put(ctx, key("_"+cfg.keyPrefix, cfg.keySize, req), val)
			return err
		}
	case "range":
		res.Consistency = cfg.consistency
		if cfg.populate {
			n, err := populate(conns, cfg, val)
			if err != nil {
				return err
			}
			res.Populated = &n
		}
		var opts []clientv3.OpOption
		if cfg.consistency == "s" {
			opts = append(opts, clientv3.WithSerializable())
		}
		get := func(c *clientv3.Client, ci int, count bool) error {
			ctx, cancel := reqCtx()
			defer cancel()
			resp, err := c.Get(ctx, key(cfg.keyPrefix, cfg.keySize, rngs[ci].Intn(cfg.keySpace)), opts...)
			if err != nil {
				return err
			}
			if count && len(resp.Kvs) != 1 {
				misses.Add(1)
			}
			return nil
		}
		measured = func(c *clientv3.Client, ci, req int) error { return get(c, ci, true) }
		warm = func(c *clientv3.Client, ci, req int) error { return get(c, ci, false) }
	}

	if cfg.warmup > 0 {
		w := phase(conns, cfg.clients, cfg.warmup, cfg.maxDuration, warm)
		if w.errs > 0 {
			res.Notes = append(res.Notes, fmt.Sprintf("warm-up: %d of %d requests failed", w.errs, cfg.warmup))
		}
	}

	var revBefore int64
	if workload == "put" && cfg.verify {
		revBefore, err = revision(conns[0], cfg)
		if err != nil {
			return fmt.Errorf("revision before the run: %w", err)
		}
	}
	names := append([]string{cfg.fsyncMetric}, cfg.extraMetrics...)
	var mBefore map[string]float64
	var mErr error
	if cfg.metricsURL != "" {
		mBefore, mErr = scrape(cfg.metricsURL, names)
	}
	var cpuBefore float64
	var cpuErr error
	if cfg.serverPid > 0 {
		cpuBefore, cpuErr = procCPU(cfg.serverPid)
	}
	selfBefore := selfCPU()
	if cfg.cpuProfile != "" {
		f, err := os.Create(cfg.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}

	p := phase(conns, cfg.clients, cfg.total, cfg.maxDuration, measured)

	if cfg.cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	selfAfter := selfCPU()
	var cpuAfter float64
	if cfg.serverPid > 0 && cpuErr == nil {
		cpuAfter, cpuErr = procCPU(cfg.serverPid)
	}
	var mAfter map[string]float64
	if cfg.metricsURL != "" && mErr == nil {
		mAfter, mErr = scrape(cfg.metricsURL, names)
	}

	res.Issued = p.issued
	res.CutOff = p.cutOff
	if p.cutOff {
		res.Notes = append(res.Notes, fmt.Sprintf("stopped after --max-duration %s: %d of %d requests issued", cfg.maxDuration, p.issued, cfg.total))
	}
	res.Ops = len(p.lats)
	res.Errors = p.errs
	if len(p.errText) > 0 {
		res.ErrorText = p.errText
	}
	res.Misses = misses.Load()
	res.Seconds = round(p.wall.Seconds(), 4)
	res.OpsPerSec = round(float64(res.Ops)/p.wall.Seconds(), 1)
	res.LatencyUs = summarize(p.lats)
	ops := float64(max(res.Ops, 1))
	res.ClientCPU = round((selfAfter-selfBefore)*1e6/ops, 2)

	if cfg.serverPid > 0 {
		if cpuErr != nil {
			res.Notes = append(res.Notes, fmt.Sprintf("server CPU not read: %v", cpuErr))
		} else {
			cpu := cpuAfter - cpuBefore
			res.Server = &serverStats{
				Pid: cfg.serverPid, CPUSeconds: round(cpu, 2), CPUUsPerOp: round(cpu*1e6/ops, 2),
				CPUCoresUsed: round(cpu/p.wall.Seconds(), 2), RSSBytes: procRSS(cfg.serverPid),
			}
		}
	}

	switch {
	case cfg.metricsURL == "":
		res.Fsync = map[string]any{"skipped": "no --metrics-url"}
	case mErr != nil:
		res.Fsync = map[string]any{"skipped": fmt.Sprintf("metrics not read: %v", mErr)}
	default:
		b, okB := mBefore[cfg.fsyncMetric]
		a, okA := mAfter[cfg.fsyncMetric]
		if !okB || !okA {
			res.Fsync = map[string]any{"skipped": fmt.Sprintf("%s does not expose %s", cfg.metricsURL, cfg.fsyncMetric)}
		} else {
			d := a - b
			f := map[string]any{"metric": cfg.fsyncMetric, "fsyncs": d}
			if d > 0 {
				f["opsPerFsync"] = round(float64(res.Ops)/d, 2)
			}
			res.Fsync = f
		}
		for _, n := range cfg.extraMetrics {
			b, okB := mBefore[n]
			a, okA := mAfter[n]
			if okB && okA {
				if res.Metrics == nil {
					res.Metrics = map[string]float64{}
				}
				res.Metrics[n] = a - b
			}
		}
	}

	if workload == "put" && cfg.verify {
		v, err := verifyPuts(conns[0], cfg, revBefore, written, int64(res.Ops))
		if err != nil {
			res.Verify = map[string]any{"error": err.Error()}
		} else {
			res.Verify = v
		}
	}
	if workload == "range" {
		res.Verify = map[string]any{"gets": res.Ops, "found": int64(res.Ops) - res.Misses, "ok": res.Misses == 0}
	}
	if res.Ops == 0 {
		res.Notes = append(res.Notes, "no request succeeded")
	}
	return emit(cfg, res)
}

func dialWithRetry(cfg *config, workload string) ([]*clientv3.Client, error) {
	if workload != "wait" {
		return dial(cfg)
	}
	// Readiness probe: the server may not listen yet; keep dialing until --dial-timeout.
	deadline := time.Now().Add(cfg.dialTimeout)
	for {
		c := *cfg
		c.conns = 1
		c.dialTimeout = time.Second
		conns, err := dial(&c)
		if err == nil || time.Now().After(deadline) {
			return conns, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func waitReady(c *clientv3.Client, cfg *config) error {
	deadline := time.Now().Add(cfg.dialTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := c.Get(ctx, "etcd-load-ready")
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer to a get within %s: %w", cfg.dialTimeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func revision(c *clientv3.Client, cfg *config) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	resp, err := c.Get(ctx, "etcd-load-revision", clientv3.WithCountOnly())
	if err != nil {
		return 0, err
	}
	return resp.Header.Revision, nil
}

func countRange(c *clientv3.Client, cfg *config, prefix string) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	resp, err := c.Get(ctx, prefix, clientv3.WithRange(prefixEnd(prefix)), clientv3.WithCountOnly())
	if err != nil {
		return 0, err
	}
	return resp.Count, nil
}

// verifyPuts checks what the server holds against what it acknowledged: every acknowledged put
// made one revision (nothing else writes during a run), and the run's key range holds at least
// the distinct keys it acknowledged (exactly those when the range was empty before).
func verifyPuts(c *clientv3.Client, cfg *config, revBefore int64, written []atomic.Uint64, acked int64) (map[string]any, error) {
	revAfter, err := revision(c, cfg)
	if err != nil {
		return nil, err
	}
	distinct := 0
	for i := range written {
		distinct += bits.OnesCount64(written[i].Load())
	}
	keys, err := countRange(c, cfg, cfg.keyPrefix)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"acknowledged":     acked,
		"revisionDelta":    revAfter - revBefore,
		"distinctKeysPut":  distinct,
		"keysInRange":      keys,
		"revisionsMatch":   revAfter-revBefore == acked,
		"keysPresent":      keys >= int64(distinct),
		"ok":               revAfter-revBefore == acked && keys >= int64(distinct),
		"rangeCountedFrom": cfg.keyPrefix,
	}, nil
}

// populate writes keys 0..key-space-1 of the prefix unless they are all there, through every
// client (not measured). Returns the number of keys written.
func populate(conns []*clientv3.Client, cfg *config, val string) (int, error) {
	have, err := countRange(conns[0], cfg, cfg.keyPrefix)
	if err != nil {
		return 0, fmt.Errorf("populate: count: %w", err)
	}
	if have >= int64(cfg.keySpace) {
		return 0, nil
	}
	p := phase(conns, cfg.clients, cfg.keySpace, cfg.maxDuration, func(c *clientv3.Client, ci, req int) error {
		ctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
		defer cancel()
		_, err := c.Put(ctx, key(cfg.keyPrefix, cfg.keySize, req), val)
		return err
	})
	if p.errs > 0 || p.cutOff {
		return 0, fmt.Errorf("populate: %d of %d puts failed (%v)", p.errs, cfg.keySpace, p.errText)
	}
	have, err = countRange(conns[0], cfg, cfg.keyPrefix)
	if err != nil {
		return 0, fmt.Errorf("populate: count: %w", err)
	}
	if have < int64(cfg.keySpace) {
		return 0, fmt.Errorf("populate: %d keys in range after writing %d", have, cfg.keySpace)
	}
	return cfg.keySpace, nil
}

func round(x float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(x*p) / p
}

func emit(cfg *config, res *result) error {
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if cfg.out == "" {
		_, err = os.Stdout.Write(b)
		return err
	}
	return os.WriteFile(cfg.out, b, 0o644)
}
