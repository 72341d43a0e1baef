package redistest

import (
	"context"
	"strconv"
	"testing"
)

// TestCPUCounters: work on the server shows in its main-thread CPU, and
// work here in this process's; miniredis reports no server CPU.
func TestCPUCounters(t *testing.T) {
	c := Client(t)
	p := Prefix(t, c)
	before, ok := serverCPU(c)
	self := processCPU()
	ctx := context.Background()
	for i := range 3000 {
		if err := c.Set(ctx, p+":k"+strconv.Itoa(i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if processCPU() <= self {
		t.Error("this process's CPU did not grow")
	}
	after, ok2 := serverCPU(c)
	if ok != ok2 {
		t.Fatalf("server CPU reported before %v, after %v", ok, ok2)
	}
	if ok && after <= before {
		t.Errorf("server CPU %v -> %v after 3,000 commands", before, after)
	}
	if !ok {
		t.Log("the server reports no main-thread CPU (miniredis)")
	}
}
