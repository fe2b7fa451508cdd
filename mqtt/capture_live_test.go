//go:build !tinygo

package mqtt

import (
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edgekit/edgekit/internal/testutil"
)

var updateCaptures = flag.Bool("update-captures", false, "rewrite "+captureFile+" from a live mosquitto session")

// capProxy is a TCP proxy between MQTT clients and the broker that splits
// both directions into packets and records them in arrival order.
type capProxy struct {
	t      *testing.T
	ln     net.Listener
	target string

	mu    sync.Mutex
	label string
	recs  []capRec
	conns map[int][2]net.Conn
	next  int
	wg    sync.WaitGroup
}

type capRec struct {
	label string
	conn  int
	dir   string
	raw   []byte
}

func newCapProxy(t *testing.T, target string) *capProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &capProxy{t: t, ln: ln, target: target, conns: map[int][2]net.Conn{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c[0].Close()
			c[1].Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *capProxy) port() string {
	_, port, _ := net.SplitHostPort(p.ln.Addr().String())
	return port
}

func (p *capProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		target := p.target
		p.mu.Unlock()
		b, err := net.Dial("tcp", target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		id := p.next
		p.next++
		label := p.label
		p.conns[id] = [2]net.Conn{c, b}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(label, id, "c>s", c, b)
		go p.pipe(label, id, "s>c", b, c)
	}
}

func (p *capProxy) pipe(label string, id int, dir string, from, to net.Conn) {
	defer p.wg.Done()
	// Half-close, so that packets the other side sends after this side
	// hung up (an UNSUBACK racing the client's exit) are still recorded.
	defer to.(*net.TCPConn).CloseWrite()
	var buf []byte
	tmp := make([]byte, 4096)
	for {
		n, err := from.Read(tmp)
		if n > 0 {
			buf = append(buf, tmp[:n]...)
			for {
				m, perr := PacketLen(buf, 1<<20)
				if perr != nil || len(buf) < m {
					if perr != nil && perr != ErrIncomplete {
						p.t.Errorf("proxy %s: %v", dir, perr)
						return
					}
					break
				}
				p.mu.Lock()
				p.recs = append(p.recs, capRec{label, id, dir, append([]byte(nil), buf[:m]...)})
				p.mu.Unlock()
				buf = buf[m:]
			}
			to.Write(tmp[:n]) // the reader may be gone; keep recording
		}
		if err != nil {
			return
		}
	}
}

// count returns how many packets of type typ went in direction dir on
// connections of the current label.
func (p *capProxy) count(dir string, typ PacketType) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, r := range p.recs {
		if r.label == p.label && r.dir == dir && PacketType(r.raw[0]>>4) == typ {
			n++
		}
	}
	return n
}

func (p *capProxy) waitCount(dir string, typ PacketType, n int) {
	p.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for p.count(dir, typ) < n {
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: timed out waiting for %d %s %v (have %d)", p.label, n, dir, typ, p.count(dir, typ))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// clientCmd runs a mosquitto client against the proxy, bounded in time.
type clientCmd struct {
	cmd  *exec.Cmd
	out  strings.Builder
	done chan error
}

func (p *capProxy) start(ctx context.Context, bin string, args ...string) *clientCmd {
	p.t.Helper()
	c := &clientCmd{done: make(chan error, 1)}
	args = append([]string{"-h", "127.0.0.1", "-p", p.port()}, args...)
	c.cmd = exec.CommandContext(ctx, bin, args...)
	c.cmd.Stdout = &c.out
	c.cmd.Stderr = &c.out
	c.cmd.WaitDelay = time.Second
	if err := c.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	go func() { c.done <- c.cmd.Wait() }()
	return c
}

func (c *clientCmd) wait(t *testing.T) {
	t.Helper()
	select {
	case err := <-c.done:
		if err != nil {
			t.Fatalf("%v: %v\n%s", c.cmd.Args, err, c.out.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%v did not exit", c.cmd.Args)
	}
}

func (p *capProxy) run(ctx context.Context, bin string, args ...string) {
	p.t.Helper()
	p.start(ctx, bin, args...).wait(p.t)
}

func (p *capProxy) setLabel(l string) {
	p.mu.Lock()
	p.label = l
	p.mu.Unlock()
}

// TestCaptureMosquitto runs a scripted session of mosquitto_sub and
// mosquitto_pub against a mosquitto broker through a recording proxy: QoS
// 0, 1 and 2 both ways, retained messages, wills delivered after an
// abrupt disconnect, MQTT 5 properties on CONNECT, PUBLISH, SUBSCRIBE,
// UNSUBSCRIBE, DISCONNECT and wills, UNSUBSCRIBE, keep-alive pings and a
// refused CONNECT, in MQTT 3.1, 3.1.1 and 5. Every recorded packet must
// decode and re-encode byte for byte. With -update-captures the packets
// are written to testdata for TestCaptures.
func TestCaptureMosquitto(t *testing.T) {
	pub := testutil.NeedPeer(t, "mosquitto_pub")
	sub := testutil.NeedPeer(t, "mosquitto_sub")
	broker := testutil.StartMosquitto(t, testutil.MosquittoConfig{Lifetime: time.Minute})
	p := newCapProxy(t, broker.Addr())
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()

	versions := []struct {
		name string
		flag string
	}{{"v31", "mqttv31"}, {"v311", "mqttv311"}, {"v5", "mqttv5"}}

	// Keep-alive pings take 5 s (the clients' minimum): run them first, in
	// the background, under their own label.
	var pingers []*clientCmd
	for _, ver := range versions[1:] {
		p.setLabel("ping/" + ver.name)
		pingers = append(pingers, p.start(ctx, sub, "-V", ver.flag, "-k", "5", "-W", "7", "-t", "cap/ping/"+ver.name))
		p.waitCount("s>c", TypeSuback, 1)
	}

	for _, ver := range versions {
		v5 := ver.flag == "mqttv5"
		prop := func(args ...string) []string {
			if v5 {
				return args
			}
			return nil
		}
		base := "cap/" + ver.name

		// 1. QoS 0/1/2 and retained publishes to a QoS 2 subscriber.
		p.setLabel(ver.name + "/qos")
		subArgs := append([]string{"-V", ver.flag, "-q", "2", "-t", base + "/#", "-C", "4", "-v"},
			prop("-D", "connect", "maximum-packet-size", "10000",
				"-D", "connect", "receive-maximum", "10",
				"-D", "connect", "request-problem-information", "1",
				"-D", "connect", "request-response-information", "1",
				"-D", "connect", "topic-alias-maximum", "5",
				"-D", "connect", "user-property", "who", "sub",
				"-D", "subscribe", "user-property", "s", "1",
				"-x", "30")...)
		s := p.start(ctx, sub, subArgs...)
		p.waitCount("s>c", TypeSuback, 1)
		p.run(ctx, pub, append([]string{"-V", ver.flag, "-q", "0", "-t", base + "/q0", "-m", "hello"},
			prop("-D", "publish", "user-property", "a", "b")...)...)
		p.run(ctx, pub, append([]string{"-V", ver.flag, "-q", "1", "-t", base + "/q1", "-m", "one"},
			prop("-D", "publish", "payload-format-indicator", "1",
				"-D", "publish", "message-expiry-interval", "3600",
				"-D", "publish", "content-type", "text/plain",
				"-D", "publish", "response-topic", base+"/resp",
				"-D", "publish", "correlation-data", "c0ffee",
				"-D", "publish", "user-property", "k", "v",
				"-D", "publish", "user-property", "k", "v2")...)...)
		p.run(ctx, pub, append([]string{"-V", ver.flag, "-q", "2", "-t", base + "/q2", "-m", "two"},
			prop("-D", "publish", "topic-alias", "1",
				"-D", "disconnect", "session-expiry-interval", "0",
				"-D", "disconnect", "user-property", "bye", "now")...)...)
		p.run(ctx, pub, "-V", ver.flag, "-q", "1", "-r", "-t", base+"/ret", "-m", "retained")
		s.wait(t)

		// 2. A new subscriber receives the retained message; then clear it.
		p.setLabel(ver.name + "/retained")
		p.run(ctx, sub, "-V", ver.flag, "-q", "1", "-t", base+"/ret", "-C", "1")
		p.run(ctx, pub, "-V", ver.flag, "-q", "1", "-r", "-n", "-t", base+"/ret")

		// 3. A will, published by the broker when the proxy drops its owner.
		p.setLabel(ver.name + "/will")
		w := p.start(ctx, sub, "-V", ver.flag, "-q", "1", "-t", base+"/will", "-C", "1", "-v")
		p.waitCount("s>c", TypeSuback, 1)
		owner := p.start(ctx, sub, append([]string{"-V", ver.flag, "-t", base + "/other",
			"--will-topic", base + "/will", "--will-payload", "gone", "--will-qos", "1", "--will-retain"},
			prop("-D", "will", "payload-format-indicator", "1",
				"-D", "will", "message-expiry-interval", "60",
				"-D", "will", "content-type", "text/plain",
				"-D", "will", "response-topic", base+"/r",
				"-D", "will", "correlation-data", "id-1",
				"-D", "will", "will-delay-interval", "0",
				"-D", "will", "user-property", "w", "1")...)...)
		p.waitCount("s>c", TypeSuback, 2)
		// SIGKILL: the socket closes without a DISCONNECT.
		if err := owner.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-owner.done
		w.wait(t)
		p.run(ctx, pub, "-V", ver.flag, "-q", "1", "-r", "-n", "-t", base+"/will")

		// 4. Persistent session: subscribe and unsubscribe.
		p.setLabel(ver.name + "/unsubscribe")
		p.run(ctx, sub, append([]string{"-V", ver.flag, "-c", "-i", "cap-uns-" + ver.name, "-q", "1",
			"-t", base + "/u", "-t", base + "/+/x", "-U", base + "/u", "-U", base + "/+/x", "-E"},
			prop("-D", "unsubscribe", "user-property", "u", "1")...)...)
		p.run(ctx, sub, "-V", ver.flag, "-c", "-i", "cap-uns-"+ver.name, "-t", base+"/u", "-E")
	}

	// 5. MQTT 5 refusals: an authentication method mosquitto lacks.
	p.setLabel("v5/bad-auth")
	c := p.start(ctx, pub, "-V", "mqttv5", "-t", "cap/x", "-m", "x",
		"-D", "connect", "authentication-method", "SCRAM-SHA-1",
		"-D", "connect", "authentication-data", "client-first")
	p.waitCount("s>c", TypeConnack, 1)
	<-c.done

	// 6. An independent MQTT 5 client, Eclipse Paho for Python, for the
	// subscription options mosquitto_sub cannot send (no local, retain as
	// published, retain handling), a subscription identifier, topic alias,
	// and a DISCONNECT with a reason code and properties.
	if py := pahoPython(t); py != "" {
		p.setLabel("v5/paho-python")
		script := filepath.Join(t.TempDir(), "session.py")
		if err := os.WriteFile(script, []byte(pahoSession), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.CommandContext(ctx, py, script, "127.0.0.1", p.port())
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("paho-python session: %v\n%s", err, out)
		}
	}

	// 7. A second broker with limits, so its CONNACK carries Maximum QoS,
	// Retain Available, Maximum Packet Size and Server Keep Alive, and it
	// refuses what breaks them.
	limited := testutil.StartMosquitto(t, testutil.MosquittoConfig{Lifetime: time.Minute, Extra: []string{
		"max_qos 1", "retain_available false", "max_keepalive 30", "max_packet_size 300",
	}})
	p.mu.Lock()
	p.target = limited.Addr()
	p.mu.Unlock()
	for _, ver := range versions[1:] {
		p.setLabel(ver.name + "/limits")
		p.run(ctx, pub, "-V", ver.flag, "-q", "1", "-k", "60", "-t", "cap/lim", "-m", "within limits")
		for _, args := range [][]string{
			{"-q", "2", "-t", "cap/lim", "-m", "qos2"},
			{"-q", "1", "-r", "-t", "cap/lim", "-m", "retained"},
			{"-q", "1", "-t", "cap/lim", "-m", strings.Repeat("x", 400)},
		} {
			c := p.start(ctx, pub, append([]string{"-V", ver.flag}, args...)...)
			<-c.done // may fail: the broker or the client refuses it
		}
	}

	for _, pg := range pingers {
		<-pg.done // -W makes mosquitto_sub exit with status 27 ("Timed out")
	}
	p.mu.Lock()
	recs := append([]capRec(nil), p.recs...)
	p.mu.Unlock()

	// Each connection's version comes from its CONNECT.
	vers := map[int]Version{}
	for _, r := range recs {
		if r.dir == "c>s" && PacketType(r.raw[0]>>4) == TypeConnect {
			var c Connect
			if _, err := c.Decode(r.raw); err != nil {
				t.Fatalf("%s: CONNECT: %v", r.label, err)
			}
			vers[r.conn] = c.Version
		}
	}
	seen := map[Version]map[PacketType]int{}
	var file strings.Builder
	file.WriteString("# Captured by TestCaptureMosquitto (go test ./mqtt -run CaptureMosquitto -update-captures)\n")
	file.WriteString("# between mosquitto 2.0 clients and broker; see capture_test.go for the format.\n")
	last := -1
	for _, r := range recs {
		v := vers[r.conn]
		typ, err := roundTrip(capPacket{r.label, r.dir, v, r.raw})
		if err != nil {
			t.Errorf("%s conn %d %s v%d %v: %v", r.label, r.conn, r.dir, v, typ, err)
		}
		if seen[v] == nil {
			seen[v] = map[PacketType]int{}
		}
		seen[v][typ]++
		if r.conn != last {
			fmt.Fprintf(&file, "# %s conn %d\n", r.label, r.conn)
			last = r.conn
		}
		fmt.Fprintf(&file, "%s %d %v %s\n", r.dir, v, typ, hex.EncodeToString(r.raw))
	}
	checkCoverage(t, seen)
	if *updateCaptures && !t.Failed() {
		if err := os.WriteFile(captureFile, []byte(file.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %d packets to %s", len(recs), captureFile)
	}
	_ = io.EOF
}

// pahoPython returns a Python interpreter that can import paho.mqtt
// (Debian: python3-paho-mqtt), or "" after logging why the scenario is
// skipped. With EDGEKIT_PEERS=require a missing module fails the test.
func pahoPython(t *testing.T) string {
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		path, err := exec.LookPath(py)
		if err != nil {
			continue
		}
		if exec.Command(path, "-c", "import paho.mqtt.client").Run() == nil {
			return path
		}
	}
	if testutil.PeersRequired() {
		t.Fatal("python3-paho-mqtt not installed (apt-get install python3-paho-mqtt)")
	}
	t.Log("skipping the paho-python scenario: python3-paho-mqtt not installed")
	return ""
}

// pahoSession is the Paho Python (1.6) script of scenario 6. It exits
// non-zero if a step times out.
const pahoSession = `
import sys, time
import paho.mqtt.client as mqtt
from paho.mqtt.properties import Properties
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.subscribeoptions import SubscribeOptions
from paho.mqtt.reasoncodes import ReasonCodes

host, port = sys.argv[1], int(sys.argv[2])
got, acks = [], []
c = mqtt.Client(client_id="cap-paho-py", protocol=mqtt.MQTTv5)
c.on_message = lambda cl, u, m: got.append(m)
c.on_subscribe = lambda cl, u, mid, rc, props: acks.append(mid)
c.on_unsubscribe = lambda cl, u, mid, props, rc: acks.append(mid)

def wait(cond, what):
    end = time.time() + 5
    while not cond():
        if time.time() > end:
            sys.exit("timed out waiting for " + what)
        time.sleep(0.01)

cp = Properties(PacketTypes.CONNECT)
cp.SessionExpiryInterval = 30
cp.ReceiveMaximum = 5
cp.TopicAliasMaximum = 3
cp.UserProperty = ("a", "b")
c.connect(host, port, keepalive=20, clean_start=True, properties=cp)
c.loop_start()

sp = Properties(PacketTypes.SUBSCRIBE)
sp.SubscriptionIdentifier = 9
c.subscribe([
    ("py/a/#", SubscribeOptions(qos=2, retainAsPublished=True, retainHandling=SubscribeOptions.RETAIN_SEND_ON_SUBSCRIBE)),
    ("py/b", SubscribeOptions(qos=1, noLocal=True, retainHandling=SubscribeOptions.RETAIN_DO_NOT_SEND)),
    ("py/c/+", SubscribeOptions(qos=0, retainHandling=SubscribeOptions.RETAIN_SEND_IF_NEW_SUB)),
], properties=sp)
wait(lambda: len(acks) >= 1, "SUBACK")

pp = Properties(PacketTypes.PUBLISH)
pp.TopicAlias = 1
pp.ResponseTopic = "py/resp"
pp.CorrelationData = b"\x01\x02"
pp.MessageExpiryInterval = 100
pp.PayloadFormatIndicator = 1
pp.ContentType = "text/plain"
pp.UserProperty = [("k", "v"), ("k", "w")]
c.publish("py/a/1", b"qos2 from paho", qos=2, properties=pp).wait_for_publish()
c.publish("py/b", b"no local: not echoed", qos=1).wait_for_publish()
c.publish("py/c/x", b"qos0", qos=0, retain=True).wait_for_publish()
wait(lambda: len(got) >= 2, "two messages back")

up = Properties(PacketTypes.UNSUBSCRIBE)
up.UserProperty = ("u", "1")
c.unsubscribe(["py/a/#", "py/b", "py/c/+"], properties=up)
wait(lambda: len(acks) >= 2, "UNSUBACK")
c.publish("py/c/x", b"", qos=1, retain=True).wait_for_publish()

dp = Properties(PacketTypes.DISCONNECT)
dp.SessionExpiryInterval = 0
dp.ReasonString = "done"
c.disconnect(reasoncode=ReasonCodes(PacketTypes.DISCONNECT, identifier=4), properties=dp)
c.loop_stop()
`
