package testutil

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// EnvPeers is the environment variable that decides what a missing peer
// means. With EDGEKIT_PEERS=require (CI sets it) a test whose peer is not
// installed fails; otherwise it is skipped.
const EnvPeers = "EDGEKIT_PEERS"

// PeersRequired reports whether EDGEKIT_PEERS=require is set, that is,
// whether a missing peer fails the test instead of skipping it.
func PeersRequired() bool {
	return os.Getenv(EnvPeers) == "require"
}

// NeedPeer returns the path of the peer program binary, looked up on PATH
// (a name containing a slash is used as it is). If it is missing, NeedPeer
// skips the test with a message naming the Debian package that provides it,
// or fails the test when [PeersRequired].
func NeedPeer(tb testing.TB, binary string) string {
	tb.Helper()
	path, err := exec.LookPath(binary)
	if err == nil {
		return path
	}
	what := binary + " not installed"
	if pkg := debianPackage(binary); pkg != "" {
		what += " (" + pkg + ")"
	}
	if PeersRequired() {
		tb.Fatalf("%s; %s=require makes a missing peer a failure", what, EnvPeers)
	}
	tb.Skipf("%s; set %s=require to make this a failure", what, EnvPeers)
	return ""
}

// debianPackage names how to install a peer binary on Debian 12, or "".
func debianPackage(binary string) string {
	switch {
	case binary == "mosquitto":
		return "apt-get install mosquitto"
	case strings.HasPrefix(binary, "mosquitto_"):
		return "apt-get install mosquitto-clients"
	case strings.HasPrefix(binary, "coap-"):
		return "apt-get install libcoap3-bin"
	case strings.HasPrefix(binary, "qemu-") && strings.HasSuffix(binary, "-static"):
		return "apt-get install qemu-user-static"
	case binary == "qemu-system-arm":
		return "apt-get install qemu-system-arm"
	case binary == "tinygo":
		return "bash .ci/install-tinygo.sh"
	}
	return ""
}
