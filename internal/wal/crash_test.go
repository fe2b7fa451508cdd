package wal

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const crashEnv = "EDGEKIT_WAL_CRASH_DIR"

// TestCrashChild is the child side of TestCrash: it appends with
// SyncAlways from two goroutines, deletes some acknowledged records (see
// crashDeletes), and prints "ack <offset> <i>" / "del <offset>" once each call returned.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashEnv)
	if dir == "" {
		t.Skip("child process of TestCrash")
	}
	round, _ := strconv.Atoi(os.Getenv(crashEnv + "_ROUND"))
	l, err := Open(dir, Config{Sync: SyncAlways, SegmentSize: 64 << 10, Logger: quiet()})
	if err != nil {
		os.Stdout.WriteString("open-error " + err.Error() + "\n")
		os.Exit(3)
	}
	var mu sync.Mutex
	say := func(s string) {
		mu.Lock()
		os.Stdout.WriteString(s)
		mu.Unlock()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 100000 && ctx.Err() == nil; i++ {
				id := round*1000000 + g*200000 + i
				off, err := l.Append(ctx, crashPayload(id), AppendOptions{Codec: Codec(1 + id%3)})
				if err != nil {
					say("error " + err.Error() + "\n")
					return
				}
				say("ack " + strconv.FormatUint(off, 10) + " " + strconv.Itoa(id) + "\n")
				if crashDeletes(id) {
					if err := l.Delete(ctx, off); err != nil {
						say("error " + err.Error() + "\n")
						return
					}
					say("del " + strconv.FormatUint(off, 10) + "\n")
				}
			}
		}(g)
	}
	wg.Wait()
	os.Exit(0)
}

// crashDeletes says whether the child deletes record id right after its
// ack: every fifth in odd rounds, four in five in even rounds (so that
// segments fall below the compaction ratio and the kill may hit a
// background compaction).
func crashDeletes(id int) bool {
	i := id % 200000
	if (id/1000000)%2 == 1 {
		return i%5 == 4
	}
	return i%5 != 0
}

func crashPayload(id int) []byte {
	p := payload(id)
	for j := 0; j < id%4; j++ {
		p = append(p, payload(id+j)...)
	}
	return p
}

// TestCrash SIGKILLs a child appending with SyncAlways at several moments
// and checks that every acknowledged record is there, intact, after
// recovery, and that every acknowledged delete held.
func TestCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	dir := t.TempDir()
	acked := map[uint64]int{}
	deleted := map[uint64]bool{}
	for round, delay := range []time.Duration{30 * time.Millisecond, 80 * time.Millisecond, 150 * time.Millisecond, 300 * time.Millisecond, 10 * time.Millisecond} {
		cmd := exec.Command(exe, "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashEnv+"="+dir, crashEnv+"_ROUND="+strconv.Itoa(round+1))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		// Kill once the child is running and has acknowledged something.
		deadline := time.After(20 * time.Second)
		var killed bool
		var timer <-chan time.Time
		n := 0
	loop:
		for {
			select {
			case line, ok := <-lines:
				if !ok {
					break loop
				}
				f := strings.Fields(line)
				switch {
				case len(f) == 3 && f[0] == "ack":
					off, _ := strconv.ParseUint(f[1], 10, 64)
					id, _ := strconv.Atoi(f[2])
					acked[off] = id
					n++
					if timer == nil {
						timer = time.After(delay)
					}
				case len(f) == 2 && f[0] == "del":
					off, _ := strconv.ParseUint(f[1], 10, 64)
					deleted[off] = true
				case strings.HasPrefix(line, "error") || strings.HasPrefix(line, "open-error"):
					t.Fatalf("child: %s", line)
				}
			case <-timer:
				if !killed {
					killed = true
					_ = cmd.Process.Kill() // SIGKILL
				}
				timer = nil
			case <-deadline:
				_ = cmd.Process.Kill()
				t.Fatal("child did not finish")
			}
		}
		_ = cmd.Wait()
		if !killed {
			t.Fatalf("round %d: child exited before the kill", round)
		}
		l := openT(t, dir, Config{SegmentSize: 64 << 10})
		r := l.Stats().Recovery
		t.Logf("round %d: killed after %v, %d acks this round; recovery: %d records, torn %d bytes, damaged %d",
			round, delay, n, r.Records, r.TornBytes, r.DamagedCount)
		if r.DamagedCount != 0 {
			t.Fatalf("damage after SIGKILL: %+v", r)
		}
		live := map[uint64][]byte{}
		for _, kv := range readAll(t, l) {
			live[kv.off] = kv.data
		}
		for off, id := range acked {
			got, ok := live[off]
			switch {
			case deleted[off] && ok:
				t.Fatalf("round %d: deleted record %d is back", round, off)
			case !deleted[off] && !ok && crashDeletes(id):
				// The child deletes these right after the ack; the kill may
				// have come between its Delete and its "del" line.
			case !deleted[off] && !ok:
				dumpDir(t, dir, off)
				t.Fatalf("round %d: acknowledged record %d (id %d) lost", round, off, id)
			case ok && string(got) != string(crashPayload(id)):
				t.Fatalf("round %d: record %d differs", round, off)
			}
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func dumpDir(t *testing.T, dir string, off uint64) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		info, _ := e.Info()
		t.Logf("file %s %d", e.Name(), info.Size())
	}
	l := openT(t, dir, Config{})
	defer l.Close()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.segs {
		first, last := uint64(0), uint64(0)
		if len(s.ents) > 0 {
			first, last = s.base+uint64(s.ents[0].rel), s.base+uint64(s.ents[len(s.ents)-1].rel)
		}
		t.Logf("seg %s base %d ents %d [%d..%d] live %d", s.name, s.base, len(s.ents), first, last, s.live)
		for _, e := range s.ents {
			if s.base+uint64(e.rel) == off {
				t.Logf("  found %d: %+v", off, e)
			}
		}
	}
}
