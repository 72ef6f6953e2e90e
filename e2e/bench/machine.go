package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Machine describes where a run ran.
type Machine struct {
	CPU         string // model name
	Cores       int    // logical CPUs
	Memory      string
	Go          string
	OS          string // kernel
	Postgres    string
	Database    string // which server: set by the caller
	LoadAverage string // 1, 5, 15 minutes, at the start
	// OtherLoad is the CPU the rest of the machine used during the run, on
	// average: what else skewed the figures.
	OtherLoad string
}

func describeMachine(ctx context.Context, db *pgxpool.Pool) (Machine, error) {
	m := Machine{Cores: runtime.NumCPU(), Go: runtime.Version(), CPU: "unknown CPU", Memory: "unknown", OS: runtime.GOOS}
	if v, ok := procField("/proc/cpuinfo", "model name"); ok {
		m.CPU = v
	}
	if v, ok := procField("/proc/meminfo", "MemTotal"); ok {
		if kb, err := strconv.ParseFloat(strings.TrimSuffix(v, " kB"), 64); err == nil {
			m.Memory = fmt.Sprintf("%.1f GiB", kb/(1<<20))
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.OS = "Linux " + strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.LoadAverage = strings.Join(f[:3], " ")
		}
	}
	if err := db.QueryRow(ctx, `SHOW server_version`).Scan(&m.Postgres); err != nil {
		return m, fmt.Errorf("ask PostgreSQL its version: %w", err)
	}
	m.Postgres = strings.Fields(m.Postgres)[0]
	return m, nil
}

// procField returns the value of the first "key: value" line of a /proc file.
func procField(path, key string) (string, bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		k, v, ok := strings.Cut(s.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// rss returns a process's resident set size in bytes.
func rss(pid int) (int64, error) {
	v, ok := procField(fmt.Sprintf("/proc/%d/status", pid), "VmRSS")
	if !ok {
		return 0, fmt.Errorf("no VmRSS for process %d", pid)
	}
	kb, err := strconv.ParseInt(strings.TrimSuffix(v, " kB"), 10, 64)
	return kb << 10, err
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
