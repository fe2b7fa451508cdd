package sched

import (
	"context"
	"fmt"
	"math"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// Watermark tightens GOGC once memory use reaches Fraction of the limit.
type Watermark struct {
	Fraction float64 // of GCConfig.Limit, in (0, 1]
	GOGC     int     // GOGC at and above this watermark, >= 1
}

// DefaultWatermarks returns the watermarks used when GCConfig.Watermarks
// is nil: GOGC 50 from half the limit, 25 from three quarters, and 10 (an
// almost continuous collection) from 90%.
func DefaultWatermarks() []Watermark { return []Watermark{{0.5, 50}, {0.75, 25}, {0.9, 10}} }

// GCConfig configures a GCController. The zero value takes the limit from
// debug.SetMemoryLimit, GOGC 100 below the first watermark, and
// DefaultWatermarks.
type GCConfig struct {
	// Limit is the memory budget in bytes the watermarks are fractions of;
	// 0 means the runtime's current soft limit (debug.SetMemoryLimit(-1),
	// for example as set by ApplyMemoryLimit).
	Limit int64
	// BaseGOGC is GOGC below the first watermark; 0 means 100.
	BaseGOGC int
	// Watermarks, in ascending Fraction order with non-increasing GOGC;
	// nil means DefaultWatermarks.
	Watermarks []Watermark
	// Hysteresis is how far (as a fraction of Limit) use must fall below a
	// watermark before GOGC is relaxed again; 0 means 0.05.
	Hysteresis float64

	// ReadMemory returns the memory in use in bytes; nil reads the Go
	// runtime's mapped memory minus what it has returned to the OS
	// (runtime/metrics), the quantity its memory limit governs.
	ReadMemory func() uint64
	// SetGCPercent replaces debug.SetGCPercent, for tests.
	SetGCPercent func(int) int
}

// GCStats is a snapshot of a GCController.
type GCStats struct {
	Steps       uint64 // Step calls
	Adjustments uint64 // GOGC changes made
	Memory      uint64 // memory in use at the last step
	PeakMemory  uint64 // highest memory seen
	Limit       int64
	GOGC        int // GOGC in effect
	Level       int // watermarks reached: 0 below the first
	// StepsAtLevel counts steps spent at each level (index = Level).
	StepsAtLevel []uint64
}

// GCController tightens GOGC as memory use nears a limit, for devices where
// running out of memory is worse than spending CPU on collection: each
// Step reads memory use, finds the highest watermark reached, and sets
// GOGC to that watermark's value (relaxing again only after use drops
// Hysteresis below it). Go's own memory limit makes the collector run
// harder right at the limit; the watermarks start earlier and more gently.
// It is safe for concurrent use. It starts no goroutines; Run drives Step
// from a ticker in the caller's goroutine.
type GCController struct {
	mu     sync.Mutex
	cfg    GCConfig
	marks  []Watermark
	stats  GCStats
	sample [2]metrics.Sample
}

// NewGCController validates cfg and returns a controller. It does not
// change GOGC until the first Step.
func NewGCController(cfg GCConfig) (*GCController, error) {
	c := &GCController{cfg: cfg}
	if c.cfg.Limit == 0 {
		c.cfg.Limit = debug.SetMemoryLimit(-1)
		if c.cfg.Limit == math.MaxInt64 {
			return nil, fmt.Errorf("%w: no GCConfig.Limit and no runtime memory limit", ErrConfig)
		}
	}
	if c.cfg.Limit < 0 {
		return nil, fmt.Errorf("%w: Limit %d", ErrConfig, cfg.Limit)
	}
	if c.cfg.BaseGOGC == 0 {
		c.cfg.BaseGOGC = 100
	}
	if c.cfg.BaseGOGC < 1 {
		return nil, fmt.Errorf("%w: BaseGOGC %d", ErrConfig, cfg.BaseGOGC)
	}
	c.marks = cfg.Watermarks
	if c.marks == nil {
		c.marks = DefaultWatermarks()
	}
	prevF, prevG := 0.0, c.cfg.BaseGOGC
	for _, w := range c.marks {
		if !(w.Fraction > prevF) || w.Fraction > 1 || w.GOGC < 1 || w.GOGC > prevG {
			return nil, fmt.Errorf("%w: watermarks %v must rise in Fraction (0,1] with non-increasing GOGC <= BaseGOGC", ErrConfig, c.marks)
		}
		prevF, prevG = w.Fraction, w.GOGC
	}
	if c.cfg.Hysteresis == 0 {
		c.cfg.Hysteresis = 0.05
	}
	if c.cfg.Hysteresis < 0 || c.cfg.Hysteresis >= 1 {
		return nil, fmt.Errorf("%w: Hysteresis %v", ErrConfig, cfg.Hysteresis)
	}
	if c.cfg.SetGCPercent == nil {
		c.cfg.SetGCPercent = debug.SetGCPercent
	}
	if c.cfg.ReadMemory == nil {
		c.sample[0].Name = "/memory/classes/total:bytes"
		c.sample[1].Name = "/memory/classes/heap/released:bytes"
		c.cfg.ReadMemory = c.runtimeMemory
	}
	c.stats.Limit = c.cfg.Limit
	c.stats.GOGC = -1 // unknown until the first step sets it
	c.stats.StepsAtLevel = make([]uint64, len(c.marks)+1)
	return c, nil
}

// runtimeMemory is the default ReadMemory; it runs under c.mu.
func (c *GCController) runtimeMemory() uint64 {
	metrics.Read(c.sample[:])
	total, released := c.sample[0].Value.Uint64(), c.sample[1].Value.Uint64()
	if released > total {
		return 0
	}
	return total - released
}

// Step reads memory use once, adjusts GOGC if the level changed, and
// returns the GOGC in effect. It allocates nothing.
func (c *GCController) Step() (gogc int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	mem := c.cfg.ReadMemory()
	s := &c.stats
	s.Steps++
	s.Memory = mem
	s.PeakMemory = max(s.PeakMemory, mem)
	use := float64(mem) / float64(max(c.cfg.Limit, 1))
	level := 0
	for i, w := range c.marks {
		if use >= w.Fraction {
			level = i + 1
		}
	}
	// Relax only below (watermark - Hysteresis) of each level we leave, so
	// use hovering around a watermark does not flap GOGC.
	if level < s.Level {
		level = s.Level
		for level > 0 && use < c.marks[level-1].Fraction-c.cfg.Hysteresis {
			level--
		}
	}
	gogc = c.cfg.BaseGOGC
	if level > 0 {
		gogc = c.marks[level-1].GOGC
	}
	if gogc != s.GOGC {
		c.cfg.SetGCPercent(gogc)
		s.Adjustments++
		s.GOGC = gogc
	}
	s.Level = level
	s.StepsAtLevel[level]++
	return gogc
}

func (c *GCController) snapshot() GCStats {
	s := c.stats
	s.StepsAtLevel = append([]uint64(nil), c.stats.StepsAtLevel...)
	return s
}

// Stats returns the controller's stats.
func (c *GCController) Stats() GCStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.snapshot()
}

// Run calls Step every interval until ctx is done, then restores BaseGOGC
// and returns ctx.Err().
func (c *GCController) Run(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		return fmt.Errorf("%w: interval %v", ErrConfig, interval)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		c.Step()
		select {
		case <-ctx.Done():
			c.mu.Lock()
			c.cfg.SetGCPercent(c.cfg.BaseGOGC)
			c.stats.GOGC, c.stats.Level = c.cfg.BaseGOGC, 0
			c.mu.Unlock()
			return ctx.Err()
		case <-t.C:
		}
	}
}
