package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// cpuMeter tells how much CPU the rest of the machine used while a run
// went on: the machine's busy time less this process's and its
// descendants' (the stack, PostgreSQL when private, go test).
type cpuMeter struct {
	began         time.Time
	machine, ours float64 // seconds of CPU at the start
}

func startCPUMeter() cpuMeter {
	return cpuMeter{began: time.Now(), machine: machineCPU(), ours: treeCPU(os.Getpid())}
}

// others returns the other processes' average use, in cores.
func (m cpuMeter) others() float64 {
	wall := time.Since(m.began).Seconds()
	if wall <= 0 {
		return 0
	}
	other := (machineCPU() - m.machine) - (treeCPU(os.Getpid()) - m.ours)
	return max(other, 0) / wall
}

// clockTicks is USER_HZ, which Linux fixes at 100 for /proc.
const clockTicks = 100

// machineCPU is the time all CPUs spent busy since boot, from /proc/stat.
func machineCPU() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	var busy float64
	for i, v := range f[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		if i > 7 { // guest time is already in user
			break
		}
		n, _ := strconv.ParseFloat(v, 64)
		busy += n
	}
	return busy / clockTicks
}

// procStat returns a process's parent and its CPU ticks: its own
// (utime, stime) and those of the children it waited for (cutime, cstime).
func procStat(pid string) (ppid int, own, children float64, ok bool) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, 0, 0, false
	}
	s := string(b)
	// The command name may hold spaces and parentheses; the fields after
	// it start at state.
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 15 {
		return 0, 0, 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	n := func(i int) float64 { v, _ := strconv.ParseFloat(f[i], 64); return v }
	return ppid, n(11) + n(12), n(13) + n(14), true
}

// procCPU is a process's own CPU time in seconds, its children's left out.
func procCPU(pid int) float64 {
	_, own, _, _ := procStat(strconv.Itoa(pid))
	return own / clockTicks
}

// treeCPU is the CPU time of pid and its live descendants, each with the
// time of the children it has waited for.
func treeCPU(root int) float64 {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	children := map[int][]int{}
	ticks := map[int]float64{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		ppid, own, waited, ok := procStat(e.Name())
		if !ok {
			continue
		}
		children[ppid] = append(children[ppid], pid)
		ticks[pid] = own + waited
	}
	var sum float64
	stack := []int{root}
	for len(stack) > 0 {
		pid := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		sum += ticks[pid]
		stack = append(stack, children[pid]...)
	}
	return sum / clockTicks
}

// stackCPU is the CPU time of everything this process started: the
// servers, and PostgreSQL when it is a private cluster.
func stackCPU() float64 {
	self := os.Getpid()
	return treeCPU(self) - procCPU(self)
}

// cores prints a machine share. Process and machine times are sampled
// differently, so below a tenth of a core the difference is noise.
func cores(v float64) string {
	if v < 0.1 {
		return "less than 0.1 core"
	}
	return fmt.Sprintf("%.1f cores", v)
}
