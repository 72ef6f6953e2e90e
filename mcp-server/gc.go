package main

import (
	"strconv"
	"strings"
)

// gcPercent is the collector's target (GOGC) unless the environment sets
// one. The go-sdk leaves some 450 KB of short-lived garbage per tools/call
// (it decodes each JSON value with a fresh 32 KB buffer) against a live
// heap of a few MB, so at Go's default of 100 the collector runs hundreds of
// times a second under load. 400 took a fifth off the CPU per call for
// about 40 MB more memory at 500 clients (docs/benchmarks.md).
const gcPercent = 400

// cgroupMemoryMax is the memory limit of the container (cgroup v2); absent
// outside one, "max" when unlimited.
const cgroupMemoryMax = "/sys/fs/cgroup/memory.max"

// gcTuning is what gcSettings chose; a zero field leaves the runtime's.
type gcTuning struct {
	percent int
	limit   int64 // bytes
}

// gcSettings chooses the collector's settings: GOGC gcPercent, and under a
// container memory limit a soft limit at three quarters of it, so that a
// heap allowed to grow to five times the live data makes the collector
// work harder near the limit instead of getting the process killed. GOGC
// and GOMEMLIMIT in the environment win.
func gcSettings(lookupEnv func(string) (string, bool), readFile func(string) ([]byte, error)) gcTuning {
	var t gcTuning
	if _, set := lookupEnv("GOGC"); !set {
		t.percent = gcPercent
	}
	if _, set := lookupEnv("GOMEMLIMIT"); !set {
		if b, err := readFile(cgroupMemoryMax); err == nil {
			if max, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && max > 0 {
				t.limit = max / 4 * 3
			}
		}
	}
	return t
}
