package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Graceful restart (SIGHUP): the running gateway starts a new copy of its
// executable and hands it its listening sockets (the CoAP UDP sockets and the
// MQTT TCP listener) as inherited file descriptors, then shuts down as for
// SIGTERM: ingest stops, queued readings are published, the uplink store is
// synced and closed. Ingest stops with endpoint.Shutdown: each CoAP reader
// stops taking datagrams from the shared socket (cancelling its io_uring
// receive) and serves those it already took, so a datagram is served by the
// old process or the new one, never lost between them. The new process holds the very same sockets, so
// datagrams and connection attempts that arrive meanwhile wait in the
// kernel's socket buffers and accept queue; it waits for the old process to
// exit (EOF on an inherited pipe) before it opens the stores and starts
// reading. MQTT clients connected to the old broker are disconnected (Server
// Shutting Down) and reconnect to the new one on the same listener.
//
// To keep the gap short, the old process goes on serving until the new one
// has started and says so (one byte on a second inherited pipe); only then
// does it shut down.
//
// inheritEnv carries "wait=FD ready=FD coap=FD,FD mqtt=FD" to the new process.
const inheritEnv = "EDGEKIT_GATEWAY_INHERIT"

// inherited are the sockets a new process received from its predecessor.
type inherited struct {
	coap  []*net.UDPConn
	mqtt  net.Listener
	wait  *os.File
	ready *os.File
}

// inheritFromEnv picks up the sockets a predecessor handed over, if any.
func inheritFromEnv() (*inherited, error) {
	spec := os.Getenv(inheritEnv)
	if spec == "" {
		return nil, nil
	}
	_ = os.Unsetenv(inheritEnv)
	inh := &inherited{}
	for _, f := range strings.Fields(spec) {
		k, v, _ := strings.Cut(f, "=")
		for _, s := range strings.Split(v, ",") {
			fd, err := strconv.Atoi(s)
			if err != nil || fd < 3 {
				return nil, fmt.Errorf("%s: bad descriptor %q", inheritEnv, s)
			}
			file := os.NewFile(uintptr(fd), k)
			switch k {
			case "wait":
				inh.wait = file
			case "ready":
				inh.ready = file
			case "coap":
				pc, err := net.FilePacketConn(file)
				file.Close()
				if err != nil {
					return nil, fmt.Errorf("inherited coap socket: %w", err)
				}
				uc, ok := pc.(*net.UDPConn)
				if !ok {
					return nil, errors.New("inherited coap socket is not UDP")
				}
				inh.coap = append(inh.coap, uc)
			case "mqtt":
				ln, err := net.FileListener(file)
				file.Close()
				if err != nil {
					return nil, fmt.Errorf("inherited mqtt listener: %w", err)
				}
				inh.mqtt = ln
			}
		}
	}
	return inh, nil
}

// waitPredecessor blocks until the old process has exited (its end of the
// pipe closes) or ctx ends.
func (inh *inherited) waitPredecessor(ctx context.Context) error {
	if inh == nil || inh.wait == nil {
		return nil
	}
	if inh.ready != nil { // the old process may shut down now
		_, _ = inh.ready.Write([]byte{1})
		inh.ready.Close()
	}
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, inh.wait)
		done <- err
	}()
	select {
	case err := <-done:
		inh.wait.Close()
		return err
	case <-ctx.Done():
		inh.wait.Close()
		return ctx.Err()
	}
}

// Handover starts a new gateway process with the same arguments that takes
// over the listening sockets; the caller then shuts this one down.
func (g *Gateway) Handover() (*exec.Cmd, error) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		return nil, fmt.Errorf("handover: %w on %s", errors.ErrUnsupported, runtime.GOOS)
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	rr, rw, err := os.Pipe()
	if err != nil {
		r.Close()
		w.Close()
		return nil, err
	}
	defer rr.Close()
	files := []*os.File{r, rw}
	spec := "wait=3 ready=4"
	var coap []string
	for _, uc := range g.udp {
		f, err := uc.File()
		if err != nil {
			return nil, fmt.Errorf("handover: coap socket: %w", err)
		}
		coap = append(coap, strconv.Itoa(3+len(files)))
		files = append(files, f)
	}
	if len(coap) > 0 {
		spec += " coap=" + strings.Join(coap, ",")
	}
	if tl, ok := g.mqttLn.(*net.TCPListener); ok {
		f, err := tl.File()
		if err != nil {
			return nil, fmt.Errorf("handover: mqtt listener: %w", err)
		}
		spec += " mqtt=" + strconv.Itoa(3+len(files))
		files = append(files, f)
	}
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Env = append(os.Environ(), inheritEnv+"="+spec)
	cmd.ExtraFiles = files
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, os.Stdout, os.Stderr
	err = cmd.Start()
	for _, f := range files {
		f.Close()
	}
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("handover: start: %w", err)
	}
	g.handoverW = w // closed by the exit of this process
	go func() { _ = cmd.Wait() }()
	// Serve on until the new process has started (or give up after 30 s).
	ready := make(chan error, 1)
	go func() {
		var b [1]byte
		_, err := rr.Read(b[:])
		ready <- err
	}()
	select {
	case err := <-ready:
		if err != nil {
			return cmd, fmt.Errorf("handover: the new process did not start: %w", err)
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		return cmd, errors.New("handover: the new process did not report ready in 30 s")
	}
	g.log.Info("handed the sockets over to a new process", "pid", cmd.Process.Pid, "spec", spec)
	return cmd, nil
}
