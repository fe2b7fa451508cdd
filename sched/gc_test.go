package sched

import (
	"context"
	"errors"
	"runtime/debug"
	"slices"
	"testing"
	"time"
)

// fakeGC drives a GCController with an injected memory reading and records
// the GOGC values it sets; no sleeps, no real GC.
type fakeGC struct {
	mem  uint64
	set  []int
	gogc int
}

func (f *fakeGC) cfg(limit int64) GCConfig {
	return GCConfig{
		Limit:        limit,
		ReadMemory:   func() uint64 { return f.mem },
		SetGCPercent: func(v int) int { prev := f.gogc; f.gogc = v; f.set = append(f.set, v); return prev },
	}
}

func TestGCControllerWatermarks(t *testing.T) {
	f := &fakeGC{}
	c, err := NewGCController(f.cfg(1000))
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		mem   uint64
		gogc  int
		level int
	}{
		{100, 100, 0},
		{499, 100, 0},
		{500, 50, 1},
		{760, 25, 2},
		{950, 10, 3},
		{1200, 10, 3}, // over the limit: stays tightest
		{880, 10, 3},  // below 0.9 but within hysteresis
		{840, 25, 2},  // below 0.85: relax one level
		{460, 50, 1},  // within hysteresis of 0.5
		{100, 100, 0}, // far below: relax all the way
	} {
		f.mem = step.mem
		if got := c.Step(); got != step.gogc || c.Stats().Level != step.level || f.gogc != step.gogc {
			t.Fatalf("mem %d: GOGC %d level %d (set %v); want %d level %d", step.mem, got, c.Stats().Level, f.set, step.gogc, step.level)
		}
	}
	s := c.Stats()
	if !slices.Equal(f.set, []int{100, 50, 25, 10, 25, 50, 100}) || s.Adjustments != 7 || s.Steps != 10 || s.PeakMemory != 1200 {
		t.Errorf("set %v stats %+v", f.set, s)
	}
	if !slices.Equal(s.StepsAtLevel, []uint64{3, 2, 2, 3}) {
		t.Errorf("StepsAtLevel %v", s.StepsAtLevel)
	}
}

func TestGCControllerCustom(t *testing.T) {
	f := &fakeGC{}
	cfg := f.cfg(1 << 20)
	cfg.BaseGOGC, cfg.Watermarks, cfg.Hysteresis = 200, []Watermark{{0.8, 20}}, 0.01
	c, err := NewGCController(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.mem = 1 << 19
	c.Step()
	f.mem = 900 << 10
	c.Step()
	f.mem = 810 << 10 // 0.79: inside the 1% hysteresis
	c.Step()
	if !slices.Equal(f.set, []int{200, 20}) {
		t.Errorf("set %v", f.set)
	}
}

func TestGCControllerConfigErrors(t *testing.T) {
	f := &fakeGC{}
	for _, mod := range []func(*GCConfig){
		func(c *GCConfig) { c.Limit = -1 },
		func(c *GCConfig) { c.BaseGOGC = -5 },
		func(c *GCConfig) { c.Watermarks = []Watermark{{0.5, 50}, {0.4, 25}} },
		func(c *GCConfig) { c.Watermarks = []Watermark{{0.5, 50}, {0.7, 80}} },
		func(c *GCConfig) { c.Watermarks = []Watermark{{1.5, 10}} },
		func(c *GCConfig) { c.Watermarks = []Watermark{{0.5, 0}} },
		func(c *GCConfig) { c.Hysteresis = 1 },
	} {
		cfg := f.cfg(1000)
		mod(&cfg)
		if _, err := NewGCController(cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("config %+v: %v; want ErrConfig", cfg, err)
		}
	}
}

// TestGCControllerRuntime runs the default memory reader against the real
// runtime with an explicit limit, restoring GOGC afterwards.
func TestGCControllerRuntime(t *testing.T) {
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)
	c, err := NewGCController(GCConfig{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Step(); got != 10 {
		t.Errorf("GOGC %d with a 1-byte budget; want 10", got)
	}
	if s := c.Stats(); s.Memory == 0 || s.Level != 3 {
		t.Errorf("stats %+v", s)
	}
	if got := debug.SetGCPercent(100); got != 10 {
		t.Errorf("runtime GOGC %d; want 10", got)
	}
	if n := testing.AllocsPerRun(100, func() { c.Step() }); n != 0 && !raceEnabled {
		t.Errorf("Step: %v allocs; want 0", n)
	}
	// With no runtime limit and no Limit, construction fails.
	old := debug.SetMemoryLimit(-1)
	if old == 1<<63-1 {
		if _, err := NewGCController(GCConfig{}); !errors.Is(err, ErrConfig) {
			t.Errorf("no limit: %v", err)
		}
	}
}

func TestGCControllerRun(t *testing.T) {
	f := &fakeGC{mem: 950}
	c, _ := NewGCController(f.cfg(1000))
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Run steps once, then sees ctx done and restores BaseGOGC
	if err := c.Run(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if !slices.Equal(f.set, []int{10, 100}) {
		t.Errorf("set %v; want [10 100]", f.set)
	}
}
