//go:build linux

package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/edgekit/edgekit/blemesh/hci"
)

// TestMeshBlueZGuest runs the gateway's mesh side on a kernel Bluetooth
// controller: it boots blemesh/hci's QEMU guest (a Debian kernel with
// Bluetooth and hci_vhci, the host root shared read-only; see
// ../../blemesh/hci/testdata/bluez-guest.sh), starts BlueZ's btvirt -l2
// there (two virtual LE controllers, hci0 and hci1, on one virtual air)
// and runs TestInGuestMeshHCI inside it. Needs qemu-system-x86_64, btvirt,
// busybox and the packages the script lists (skips without them, fails
// under EDGEKIT_PEERS=require); about 30-60 s.
func TestMeshBlueZGuest(t *testing.T) {
	if testing.Short() {
		t.Skip("boots a QEMU guest")
	}
	if raceEnabled {
		t.Skip("boots a QEMU guest; covered by the non-race test run")
	}
	if runtime.GOARCH != "amd64" {
		t.Skip("the BlueZ guest is x86_64; covered by the amd64 test run")
	}
	needPeer(t, "qemu-system-x86_64")
	needPeer(t, "btvirt")
	needPeer(t, "busybox")
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("needs the go tool to build the in-guest test binary")
	}
	script, err := filepath.Abs("../../blemesh/hci/testdata/bluez-guest.sh")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(script); err != nil {
		t.Skipf("blemesh/hci's guest script is not here: %v", err)
	}
	// The guest sees the host's files read-only, but not the host's /tmp.
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Skip("no cache directory:", err)
	}
	dir, err := os.MkdirTemp(cache, "edgekit-gateway-bluez-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "gateway.test")
	build := exec.Command(goTool, "test", "-c", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the in-guest test binary: %v\n%s", err, out)
	}
	run := filepath.Join(dir, "run.sh")
	guest := `#!/bin/sh
ip link set lo up 2>/dev/null || busybox ip link set lo up
/usr/bin/btvirt -l2 >/tmp/btvirt-l.log 2>&1 &
sleep 2
echo "controllers: $(ls /sys/class/bluetooth | tr '\n' ' ')"
cd /tmp && EDGEKIT_IN_GUEST=1 timeout 150 ` + bin + ` -test.run '^TestInGuestMeshHCI$' -test.v -test.count=1 2>&1
echo "EDGEKIT-GUEST-EXIT $?"
`
	if err := os.WriteFile(run, []byte(guest), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", script, run)
	cmd.Env = append(os.Environ(), "BLUEZ_GUEST_CACHE="+filepath.Join(cache, "edgekit-bluez-guest"))
	start := time.Now()
	out, err := cmd.CombinedOutput()
	text := strings.ReplaceAll(string(out), "\r", "")
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 3 {
		if os.Getenv("EDGEKIT_PEERS") == "require" {
			t.Fatalf("bluez guest prerequisites missing:\n%s", text)
		}
		t.Skipf("bluez guest prerequisites missing:\n%s", text)
	}
	t.Logf("guest ran %v", time.Since(start).Round(time.Second))
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, "controllers:") || strings.Contains(line, "---") || strings.Contains(line, "EDGEKIT-GUEST") ||
			strings.Contains(line, "_test.go") {
			t.Log(strings.TrimSpace(line))
		}
	}
	if err != nil && !strings.Contains(text, "EDGEKIT-GUEST-EXIT") {
		t.Fatalf("guest: %v\n%s", err, text)
	}
	if !regexp.MustCompile(`--- PASS: TestInGuestMeshHCI `).MatchString(text) || !strings.Contains(text, "EDGEKIT-GUEST-EXIT 0") {
		t.Errorf("TestInGuestMeshHCI did not pass in the guest:\n%s", text)
	}
}

// TestInGuestMeshHCI runs inside the guest (EDGEKIT_IN_GUEST=1): the
// gateway's mesh side on hci0 and a simulated device on hci1, both through
// HCI user channels on the kernel's virtual controllers.
func TestInGuestMeshHCI(t *testing.T) {
	if os.Getenv("EDGEKIT_IN_GUEST") != "1" {
		t.Skip("runs inside the bluez guest (see TestMeshBlueZGuest)")
	}
	dev, err := hci.OpenUserChannel(1)
	if err != nil {
		t.Fatalf("hci1: %v", err)
	}
	meshOverHCI(t, 0, hci.OpenUserChannel, dev)
}
