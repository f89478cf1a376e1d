//go:build unix

package otp_test

import (
	"syscall"
	"testing"
	"time"
)

// processCPU is the CPU time the process has used so far, user and system, on every
// thread: the garbage collector's workers included.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuMeter reports, beside a benchmark's ns/op, the CPU time the whole process spent per
// operation ("cpu-ns/op"): on a machine shared with other work, wall time per operation
// also counts the time the benchmark waited for a CPU, CPU time does not; and it charges
// the garbage collector's work on other threads to the operations that caused it.
// Like the benchmark's timer, it can be stopped while work that is not measured runs.
type cpuMeter struct {
	start, off, stoppedAt time.Duration
}

func startCPUMeter() *cpuMeter { return &cpuMeter{start: processCPU()} }

// stop stops the meter, and b's timer, until resume.
func (m *cpuMeter) stop(b *testing.B) {
	b.StopTimer()
	m.stoppedAt = processCPU()
}

// resume starts the meter, and b's timer, again.
func (m *cpuMeter) resume(b *testing.B) {
	m.off += processCPU() - m.stoppedAt
	b.StartTimer()
}

func (m *cpuMeter) report(b *testing.B, ops int) {
	if ops > 0 {
		b.ReportMetric(float64(processCPU()-m.start-m.off)/float64(ops), "cpu-ns/op")
	}
}
