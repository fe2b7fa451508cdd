package broker

import (
	"context"
	"net"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgekit/edgekit/internal/testutil"
)

// tcpBroker serves a broker on a loopback port and returns its host and port.
func tcpBroker(t *testing.T, cfg Config) (*Broker, string, string) {
	t.Helper()
	b := newBroker(t, cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go b.Serve(ln)
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	return b, "127.0.0.1", port
}

// runPeer runs a peer command to completion within d and returns its output.
func runPeer(t *testing.T, d time.Duration, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// startPeer starts a peer command in the background, bounded by d.
func startPeerCmd(t *testing.T, d time.Duration, name string, args ...string) (*exec.Cmd, *strings.Builder) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = time.Second
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, &out
}

func waitSubs(t *testing.T, b *Broker, n int) {
	t.Helper()
	eventually(t, "subscriptions", func() bool { return b.Stats().Subscriptions >= n })
}

func TestMosquittoClients(t *testing.T) {
	sub := testutil.NeedPeer(t, "mosquitto_sub")
	pub := testutil.NeedPeer(t, "mosquitto_pub")
	for _, ver := range []string{"mqttv311", "mqttv5"} {
		for _, mode := range []EventLoopMode{EventLoopAuto, EventLoopOff} {
			t.Run(ver+"/evloop"+strconv.Itoa(int(mode)), func(t *testing.T) {
				b, host, port := tcpBroker(t, Config{EventLoop: mode})
				base := []string{"-h", host, "-p", port, "-V", ver}
				runPeer(t, 10*time.Second, pub, append(base, "-q", "1", "-r", "-t", "i/ret", "-m", "keep")...)
				cmd, out := startPeerCmd(t, 20*time.Second, sub, append(base, "-q", "2", "-t", "i/#", "-C", "4",
					"-W", "15", "-F", "%t %q %r %p")...)
				waitSubs(t, b, 1)
				for q := range 3 {
					qs := strconv.Itoa(q)
					runPeer(t, 10*time.Second, pub, append(base, "-q", qs, "-t", "i/q"+qs, "-m", "m"+qs)...)
				}
				if err := cmd.Wait(); err != nil {
					t.Fatalf("mosquitto_sub: %v\n%s", err, out)
				}
				want := "i/ret 1 1 keep\ni/q0 0 0 m0\ni/q1 1 0 m1\ni/q2 2 0 m2\n"
				if out.String() != want {
					t.Fatalf("got\n%s\nwant\n%s", out, want)
				}
				if got, want := b.Stats().EventLoop, mode == EventLoopAuto && runtime.GOOS == "linux"; got != want {
					t.Fatalf("event loop %v, want %v", got, want)
				}
			})
		}
	}
}

func TestMosquittoV5Properties(t *testing.T) {
	sub := testutil.NeedPeer(t, "mosquitto_sub")
	pub := testutil.NeedPeer(t, "mosquitto_pub")
	b, host, port := tcpBroker(t, Config{})
	base := []string{"-h", host, "-p", port, "-V", "mqttv5"}
	cmd, out := startPeerCmd(t, 20*time.Second, sub, append(base, "-q", "1", "-t", "v5/#", "-C", "1", "-W", "15",
		"-D", "subscribe", "subscription-identifier", "5", "-F", "%t|%P|%R|%D|%C|%E|%S|%p")...)
	waitSubs(t, b, 1)
	runPeer(t, 10*time.Second, pub, append(base, "-q", "1", "-t", "v5/x", "-m", "body",
		"-D", "publish", "user-property", "k", "v",
		"-D", "publish", "response-topic", "resp/x",
		"-D", "publish", "correlation-data", "cd",
		"-D", "publish", "content-type", "text/plain",
		"-D", "publish", "message-expiry-interval", "60")...)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("mosquitto_sub: %v\n%s", err, out)
	}
	got := strings.TrimSpace(out.String())
	for _, p := range []string{"60", "59"} { // expiry is rounded up from what is left
		if got == "v5/x|k:v|resp/x|cd|text/plain|"+p+"|5|body" {
			return
		}
	}
	t.Fatalf("got %q", got)
}

func TestMosquittoWill(t *testing.T) {
	sub := testutil.NeedPeer(t, "mosquitto_sub")
	for _, ver := range []string{"mqttv311", "mqttv5"} {
		t.Run(ver, func(t *testing.T) {
			b, host, port := tcpBroker(t, Config{})
			base := []string{"-h", host, "-p", port, "-V", ver}
			cmd, out := startPeerCmd(t, 20*time.Second, sub, append(base, "-t", "w/#", "-C", "1", "-W", "15", "-F", "%t %p")...)
			waitSubs(t, b, 1)
			victim, _ := startPeerCmd(t, 20*time.Second, sub, append(base, "-t", "nothing", "--will-topic", "w/gone",
				"--will-payload", "bye", "--will-qos", "1")...)
			waitSubs(t, b, 2)
			victim.Process.Signal(syscall.SIGKILL)
			if err := cmd.Wait(); err != nil {
				t.Fatalf("mosquitto_sub: %v\n%s", err, out)
			}
			if got := strings.TrimSpace(out.String()); got != "w/gone bye" {
				t.Fatalf("got %q", got)
			}
		})
	}
}

func TestMosquittoSharedAndLimits(t *testing.T) {
	sub := testutil.NeedPeer(t, "mosquitto_sub")
	pub := testutil.NeedPeer(t, "mosquitto_pub")
	b, host, port := tcpBroker(t, Config{MaxPacketSize: 1024})
	base := []string{"-h", host, "-p", port, "-V", "mqttv5"}
	var outs []*strings.Builder
	var cmds []*exec.Cmd
	for range 2 {
		cmd, out := startPeerCmd(t, 20*time.Second, sub, append(base, "-t", "$share/g/sh", "-C", "2", "-W", "15")...)
		cmds, outs = append(cmds, cmd), append(outs, out)
	}
	waitSubs(t, b, 2)
	for i := range 4 {
		runPeer(t, 10*time.Second, pub, append(base, "-q", "1", "-t", "sh", "-m", strconv.Itoa(i))...)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("member %d: %v\n%s", i, err, outs[i])
		}
		if n := strings.Count(outs[i].String(), "\n"); n != 2 {
			t.Fatalf("member %d got %d messages", i, n)
		}
	}
	// An MQTT 5 client learns the Maximum Packet Size from CONNACK and
	// does not send more; a 3.1.1 client does, and loses its connection.
	before := b.Stats()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	exec.CommandContext(ctx, pub, "-h", host, "-p", port, "-V", "mqttv311", "-q", "1", "-t", "big",
		"-m", strings.Repeat("x", 2000)).Run()
	st := b.Stats()
	if st.PacketErrors != before.PacketErrors+1 || st.MessagesReceived != before.MessagesReceived {
		t.Fatalf("oversize packet: before %+v after %+v", before, st)
	}
}

func TestPaho(t *testing.T) {
	py := testutil.NeedPeer(t, "python3")
	if exec.Command(py, "-c", "import paho.mqtt").Run() != nil {
		if exec.Command("/usr/bin/python3", "-c", "import paho.mqtt").Run() != nil {
			if testutil.PeersRequired() {
				t.Fatal("python3-paho-mqtt is not installed (apt-get install python3-paho-mqtt)")
			}
			t.Skip("python3-paho-mqtt is not installed (apt-get install python3-paho-mqtt)")
		}
		py = "/usr/bin/python3"
	}
	for _, ver := range []string{"3", "5"} {
		t.Run("v"+ver, func(t *testing.T) {
			_, host, port := tcpBroker(t, Config{})
			out := runPeer(t, 60*time.Second, py, "testdata/paho_check.py", host, port, ver)
			t.Log(out)
			if strings.Contains(out, "FAIL") || !strings.Contains(out, "PASS check_session") {
				t.Fatal(out)
			}
		})
	}
}
