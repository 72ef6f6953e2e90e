package bench

import (
	"os"
	"syscall"
	"testing"
	"time"
)

func ownCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// treeCPU counts this process's own work, and the machine's busy time
// includes it.
func TestCPUAccounting(t *testing.T) {
	tree, machine := treeCPU(os.Getpid()), machineCPU()
	start := ownCPU()
	x := 0
	for ownCPU()-start < 300*time.Millisecond {
		for i := range 100_000 {
			x += i
		}
	}
	_ = x
	if d := treeCPU(os.Getpid()) - tree; d < 0.2 {
		t.Errorf("burnt 300ms of CPU; treeCPU grew by %.2fs", d)
	}
	if d := machineCPU() - machine; d < 0.2 {
		t.Errorf("burnt 300ms of CPU; machineCPU grew by %.2fs", d)
	}
}
