package bench

import (
	"os"
	"testing"
	"time"
)

func TestProcessCPUGrowsWithWork(t *testing.T) {
	before, err := processCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	selfBefore := selfCPU()
	for deadline := time.Now().Add(300 * time.Millisecond); time.Now().Before(deadline); {
	}
	after, err := processCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if after <= before || selfCPU() <= selfBefore {
		t.Errorf("/proc: %s → %s, rusage: %s → %s; want both to grow after busy work", before, after, selfBefore, selfCPU())
	}
}

func TestProcessCPUOfAMissingProcessIsAnError(t *testing.T) {
	if _, err := processCPU(1 << 30); err == nil {
		t.Error("no error")
	}
}
