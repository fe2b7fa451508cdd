//go:build !windows

package client_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/edgekit/edgekit/internal/testutil"
	"github.com/edgekit/edgekit/mqtt"
	"github.com/edgekit/edgekit/mqtt/client"
	"github.com/edgekit/edgekit/mqtt/client/filestore"
)

const crashEnv = "EDGEKIT_MQTT_CRASH_CHILD"

// crashChild runs in the child process: it publishes n messages with the
// file store in store-and-forward mode and prints "ACK i" once Publish
// returned for message i, until it is killed.
func crashChild(spec string) {
	parts := strings.Split(spec, "|")
	dir, addr := parts[0], parts[1]
	n, _ := strconv.Atoi(parts[2])
	v := mqtt.V5
	if parts[3] == "4" {
		v = mqtt.V311
	}
	st, err := filestore.Open(dir, filestore.Config{Sync: filestore.SyncNever})
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(2)
	}
	c, err := client.New(crashConfig(client.Config{Addr: addr, Version: v, Store: st, ReturnWhenStored: true,
		MaxInflight: 20, Logger: discardLogger()}))
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(2)
	}
	ctx := context.Background()
	if err := c.Connect(ctx); err != nil {
		fmt.Println("ERR", err)
		os.Exit(2)
	}
	w := bufio.NewWriter(os.Stdout)
	for i := range n {
		q := uint8(1 + i%2)
		p := &mqtt.Publish{Topic: []byte("crash/q" + strconv.Itoa(int(q))), QoS: q, Payload: []byte(strconv.Itoa(i))}
		if err := c.Publish(ctx, p); err != nil {
			fmt.Fprintln(w, "ERR", err)
			w.Flush()
			os.Exit(2)
		}
		fmt.Fprintln(w, "ACK", i)
		w.Flush()
		if i%64 == 0 {
			time.Sleep(time.Millisecond) // let the stream interleave with sending
		}
	}
	time.Sleep(time.Minute) // wait to be killed
}

func TestMain(m *testing.M) {
	if spec := os.Getenv(crashEnv); spec != "" {
		crashChild(spec)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// crashConfig sets the persistent session of the crash test's publisher.
func crashConfig(cfg client.Config) client.Config {
	cfg.ClientID = "crash-pub-" + cfg.Version.String()
	if cfg.Version == mqtt.V5 {
		cfg.SessionExpiry = 300
	}
	return cfg
}

// TestCrash kills a publishing child process with SIGKILL and finishes its
// stream with a new client on the same file store: every message whose
// Publish returned arrives, in order, QoS 2 exactly once.
func TestCrash(t *testing.T) {
	for _, v := range versions() {
		t.Run("v"+v.String(), func(t *testing.T) { testCrash(t, v) })
	}
}

func testCrash(t *testing.T, v mqtt.Version) {
	const n = 20000
	broker := testutil.StartMosquitto(t, testutil.MosquittoConfig{Extra: []string{"max_queued_messages 0", "max_inflight_messages 0"}})
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	var mu sync.Mutex
	got := map[string][]int{}
	sub := newClient(t, client.Config{Addr: broker.Addr(), Version: v, ReceiveMaximum: 65535, CleanStart: true})
	connect(t, sub)
	if _, err := sub.Subscribe(ctx, func(m *mqtt.Publish) {
		i, _ := strconv.Atoi(string(m.Payload))
		mu.Lock()
		got[string(m.Topic)] = append(got[string(m.Topic)], i)
		mu.Unlock()
	}, mqtt.Subscription{Filter: []byte("crash/#"), QoS: 2}); err != nil {
		t.Fatal(err)
	}

	dir := filepath.Join(t.TempDir(), "store")
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashEnv+"="+dir+"|"+broker.Addr()+"|"+strconv.Itoa(n)+"|"+strconv.Itoa(int(v)))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := -1
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "ACK "); ok {
			acked, _ = strconv.Atoi(rest)
			if acked >= n/4 {
				break
			}
			continue
		}
		t.Fatalf("child: %s", line)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// Lines the child wrote before it died are acknowledgements too.
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "ACK "); ok {
			acked, _ = strconv.Atoi(rest)
		}
	}
	_ = cmd.Wait()
	if acked < 0 {
		t.Fatal("the child acknowledged nothing")
	}
	mu.Lock()
	before := len(got["crash/q1"]) + len(got["crash/q2"])
	mu.Unlock()
	t.Logf("child killed after %d acknowledged publishes; %d had arrived", acked+1, before)

	st, err := filestore.Open(dir, filestore.Config{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rec := st.Recovery()
	t.Logf("store recovery: %+v, %d records pending", rec, st.Stats().Records)
	var resumed []bool
	var rmu sync.Mutex
	c := newClient(t, crashConfig(client.Config{Addr: broker.Addr(), Version: v, Store: st,
		OnConnect: func(ci client.ConnectInfo) { rmu.Lock(); resumed = append(resumed, ci.SessionPresent); rmu.Unlock() }}))
	connect(t, c)
	for c.Stats().Stored > 0 || c.Stats().Inflight > 0 {
		if ctx.Err() != nil {
			t.Fatalf("the new client did not finish: %+v", c.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	c.Close()
	rmu.Lock()
	if len(resumed) == 0 || !resumed[0] {
		t.Errorf("the new process did not resume the session: %v", resumed)
	}
	rmu.Unlock()

	mu.Lock()
	defer mu.Unlock()
	for q, list := range map[int][]int{1: got["crash/q1"], 2: got["crash/q2"]} {
		next, dups := q-1, 0 // message i has QoS 1+i%2
		for _, x := range list {
			switch {
			case x == next:
				next += 2
			case x < next && q == 1:
				dups++
			default:
				t.Fatalf("QoS %d: got %d, want %d (out of order, lost or duplicated)", q, x, next)
			}
		}
		last := acked // the last acknowledged message of this QoS
		if last%2 != q-1 {
			last--
		}
		if next <= last {
			t.Fatalf("QoS %d: acknowledged messages lost: arrived up to %d, acknowledged up to %d", q, next-2, acked)
		}
		t.Logf("QoS %d: %d messages, %d duplicates", q, len(list)-dups, dups)
	}
}
