package bench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// userHZ is the unit of utime and stime in /proc/<pid>/stat (USER_HZ,
// 100 on every Linux architecture Go supports).
const userHZ = 100

// CPUTimes are CPU times (user + system) consumed so far.
type CPUTimes struct {
	// Traefik is Traefik's; Total adds this program's (load generator,
	// upstream, null auth server) and forwardauth's.
	Traefik, Total time.Duration
}

// sub returns c − o.
func (c CPUTimes) sub(o CPUTimes) CPUTimes {
	return CPUTimes{Traefik: c.Traefik - o.Traefik, Total: c.Total - o.Total}
}

// cpuMeter reads the CPU times of Traefik, forwardauth and this process.
func cpuMeter(traefikPid, forwardauthPid int) func() CPUTimes {
	return func() CPUTimes {
		t, _ := processCPU(traefikPid)
		f, _ := processCPU(forwardauthPid)
		return CPUTimes{Traefik: t, Total: t + f + selfCPU()}
	}
}

// processCPU is utime + stime of pid from /proc/<pid>/stat.
func processCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("bench: cpu: %w", err)
	}
	// The command name (field 2) may hold spaces; fields after its ")" start at field 3.
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return 0, fmt.Errorf("bench: cpu: malformed /proc/%d/stat", pid)
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("bench: cpu: malformed /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bench: cpu: malformed /proc/%d/stat", pid)
	}
	return time.Duration(utime+stime) * time.Second / userHZ, nil
}

// selfCPU is this process's user + system time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
