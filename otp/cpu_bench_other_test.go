//go:build !unix

package otp_test

import "testing"

// cpuMeter reports nothing where the process's CPU time cannot be read.
type cpuMeter struct{}

func startCPUMeter() *cpuMeter { return &cpuMeter{} }

func (*cpuMeter) stop(b *testing.B)      { b.StopTimer() }
func (*cpuMeter) resume(b *testing.B)    { b.StartTimer() }
func (*cpuMeter) report(*testing.B, int) {}
