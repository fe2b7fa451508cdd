package broker

import (
	"net"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/edgekit/edgekit/mqtt"
)

// persistPhase1 builds state worth keeping: a persistent session with a
// subscription, a retained message, an outbound QoS 2 message in PUBREL
// state, queued QoS 1/2 messages and an inbound QoS 2 message awaiting
// PUBREL. dial connects a client.
func persistPhase1(t *testing.T, dial func(mqtt.Connect) *tclient) (pubrelID mqtt.PacketID) {
	subCP := v5("ps")
	subCP.CleanStart = false
	subCP.Props.Set(mqtt.PropSessionExpiry, 3600)
	sub := dial(subCP)
	sub.subscribe(1, 7, mqtt.Subscription{Filter: []byte("p/#"), QoS: 2})
	pub := dial(v5("pub"))
	pub.pubAcked("p/ret", "kept", 1, true, 1)
	if p := sub.recv(); string(p.Payload) != "kept" {
		t.Fatal(p)
	}
	pub.pubAcked("p/q2", "two", 2, false, 2)
	p := sub.readPub()
	if p.QoS != 2 || string(p.Payload) != "two" {
		t.Fatal(p)
	}
	sub.write(&mqtt.Ack{Type: mqtt.TypePubrec, Version: mqtt.V5, ID: p.ID})
	if a := sub.readAck(); a.Type != mqtt.TypePubrel || a.ID != p.ID {
		t.Fatal(a)
	}
	sub.nc.Close() // no PUBCOMP
	time.Sleep(100 * time.Millisecond)
	pub.pubAcked("p/q1", "one", 1, false, 3)
	ppCP := v5("pp")
	ppCP.CleanStart = false
	ppCP.Props.Set(mqtt.PropSessionExpiry, 3600)
	pp := dial(ppCP)
	pp.pub("p/in", "in", 2, false, 9)
	if a := pp.readAck(); a.Type != mqtt.TypePubrec {
		t.Fatal(a)
	}
	return p.ID
}

// persistPhase2 checks, after a restart, that everything persistPhase1
// left is still there.
func persistPhase2(t *testing.T, dial func(mqtt.Connect) *tclient, pubrelID mqtt.PacketID) {
	subCP := v5("ps")
	subCP.CleanStart = false
	subCP.Props.Set(mqtt.PropSessionExpiry, 3600)
	sub := dial(subCP)
	if !sub.ack.SessionPresent {
		t.Fatal("session lost")
	}
	if a := sub.readAck(); a.Type != mqtt.TypePubrel || a.ID != pubrelID {
		t.Fatalf("want PUBREL %d, got %+v", pubrelID, a)
	}
	sub.write(&mqtt.Ack{Type: mqtt.TypePubcomp, Version: mqtt.V5, ID: pubrelID})
	p := sub.recv()
	if string(p.Payload) != "one" || p.QoS != 1 || len(p.Props.SubscriptionIDs) != 1 || p.Props.SubscriptionIDs[0] != 7 {
		t.Fatalf("%+v", p)
	}
	if p := sub.recv(); string(p.Payload) != "in" || p.QoS != 2 {
		t.Fatalf("%+v", p)
	}
	// The inbound QoS 2 message is still awaiting PUBREL: a resend is not
	// routed again, and PUBREL completes it.
	ppCP := v5("pp")
	ppCP.CleanStart = false
	ppCP.Props.Set(mqtt.PropSessionExpiry, 3600)
	pp := dial(ppCP)
	if !pp.ack.SessionPresent {
		t.Fatal("publisher session lost")
	}
	pp.write(&mqtt.Publish{Version: mqtt.V5, Dup: true, QoS: 2, ID: 9, Topic: []byte("p/in"), Payload: []byte("in")})
	pp.readAck()
	pp.write(&mqtt.Ack{Type: mqtt.TypePubrel, Version: mqtt.V5, ID: 9})
	if a := pp.readAck(); a.Type != mqtt.TypePubcomp || a.Code != 0 {
		t.Fatalf("%+v", a)
	}
	sub.none(200 * time.Millisecond)
	// Subscriptions survived: a new message reaches the session.
	other := dial(v5("other"))
	other.pubAcked("p/new", "new", 1, false, 1)
	if p := sub.recv(); string(p.Payload) != "new" {
		t.Fatal(p)
	}
	// The retained message survived.
	other.sub("p/ret", 0)
	if p := other.readPub(); string(p.Payload) != "kept" || !p.Retain {
		t.Fatal(p)
	}
}

func TestPersistenceRestart(t *testing.T) {
	dir := t.TempDir()
	open := func() (*Broker, *FileStore) {
		fs, err := NewFileStore(dir, FileStoreConfig{Sync: SyncNever})
		if err != nil {
			t.Fatal(err)
		}
		b, err := New(Config{Store: fs, SysInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		return b, fs
	}
	b, fs := open()
	id := persistPhase1(t, func(cp mqtt.Connect) *tclient { return pipeClient(t, b, cp) })
	b.Close()
	fs.Close()
	b, fs = open()
	defer fs.Close()
	defer b.Close()
	persistPhase2(t, func(cp mqtt.Connect) *tclient { return pipeClient(t, b, cp) }, id)
}

// brokerChild runs a broker with a FileStore in dir on addr until killed.
func brokerChild(dir, addr string) {
	fs, err := NewFileStore(dir, FileStoreConfig{Sync: SyncNever})
	if err != nil {
		os.Stdout.WriteString("error " + err.Error() + "\n")
		return
	}
	b, err := New(Config{Store: fs, SysInterval: -1})
	if err != nil {
		os.Stdout.WriteString("error " + err.Error() + "\n")
		return
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		os.Stdout.WriteString("error " + err.Error() + "\n")
		return
	}
	os.Stdout.WriteString("ready\n")
	b.Serve(ln)
}

// TestPersistenceSIGKILL kills a broker process with SIGKILL mid-session
// and checks that a new process restores sessions, retained messages and
// QoS 2 state from the store.
func TestPersistenceSIGKILL(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "js" || runtime.GOOS == "wasip1" {
		t.Skip("no SIGKILL here")
	}
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	start := func() *helper {
		h := startHelper(t, "broker", dir, addr)
		if line := h.readLine(t, 30*time.Second); line != "ready" {
			t.Fatalf("child: %q", line)
		}
		return h
	}
	h := start()
	id := persistPhase1(t, func(cp mqtt.Connect) *tclient { return tcpClient(t, addr, cp) })
	h.kill() // SIGKILL
	h = start()
	persistPhase2(t, func(cp mqtt.Connect) *tclient { return tcpClient(t, addr, cp) }, id)
	h.kill()
}
