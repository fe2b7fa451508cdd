package prov

import (
	"encoding/hex"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// Values of the specification's provisioning sample data (Mesh Protocol 1.1
// §8.7 and §8.17).
const (
	sampleProvisionerPriv = "06a516693c9aa31a6084545d0c5db641b48572b97203ddffb7ac73f7d0457663"
	sampleDevicePriv      = "529aa0670d72cd6497502ed473502b037e8803b5c60829a5a3caa219505530ba"
	sampleProvisionerPub  = "2c31a47b5779809ef44cb5eaaf5c3e43d5f8faad4a8794cb987e9b03745c78dd919512183898dfbecd52e2408e43871fd021109117bd3ed4eaf8437743715d4f"
	sampleDevicePub       = "f465e43ff23d3f1b9dc7dfc04da8758184dbc966204796eccf0d6cf5e16500cc0201d048bcbbd899eeefc424164e33c201c2b010ca6b4d43a8a155cad8ecb279"
	sampleECDH            = "ab85843a2f6d883f62e5684b38e307335fe6e1945ecd19604105c6f23221eb69"
	sampleUUID            = "70cf7c9732a345b691494810d2e9cbf4"
	sampleLinkID          = 0x23af5850
)

// pduFixtures are wire forms of every provisioning PDU type, shared by the
// codec tests, the fuzz seeds and the benchmarks.
var pduFixtures = []struct {
	name string
	wire []byte
}{
	{"invite", mustHex("0000")},
	{"invite/attention", mustHex("0005")},
	{"capabilities", mustHex("010100010000000000000000")},
	{"capabilities/oob", mustHex("01020003010104001804000c")},
	{"start", mustHex("020000000000")},
	{"start/hmac-output", mustHex("020100020304")},
	{"public-key", mustHex("03" + sampleProvisionerPub)},
	{"input-complete", mustHex("04")},
	{"confirmation/16", mustHex("05b38a114dfdca1fe153bd2c1e0dc46ac2")},
	{"confirmation/32", mustHex("05c99b54617ae646f5f32cf7e1ea6fcc49fd69066078eba9580fa6c7031833e6c8")},
	{"random/16", mustHex("068b19ac31d58b124c946209b5db1021b9")},
	{"random/32", mustHex("0636f968b94a13000e64b223576390db6bcc6d62f02617c369ee3f5b3e89df7e1f")},
	{"data", mustHex("07d0bd7f4a89a2ff6222af59a90a60ad58acfe3123356f5cec2973e0ec50783b10c7")},
	{"complete", mustHex("08")},
	{"failed", mustHex("0904")},
	{"record-request", mustHex("0a0001001000f0")},
	{"record-response", mustHex("0b00000100100040303132")},
	{"records-get", mustHex("0c")},
	{"records-list", mustHex("0d000000010011")},
}

// pbadvFixtures are PB-ADV payloads from §8.7.1-§8.7.5 and made-up
// segmented transactions.
var pbadvFixtures = []struct {
	name string
	wire []byte
}{
	{"link-open", mustHex("23af5850000370cf7c9732a345b691494810d2e9cbf4")},
	{"link-ack", mustHex("23af58500007")},
	{"link-close", mustHex("23af5850000b02")},
	{"invite", mustHex("23af585000000002140000")},
	{"capabilities", mustHex("23af58508000000cd6010100010000000000000000")},
	{"start", mustHex("23af58500100000664020000000000")},
	{"ack", mustHex("23af58500001")},
	{"public-key-start", mustSegment(mustHex("03"+sampleProvisionerPub), 0)},
	{"public-key-cont", mustSegment(mustHex("03"+sampleProvisionerPub), 1)},
	{"public-key-last", mustSegment(mustHex("03"+sampleProvisionerPub), 2)},
}

func mustSegment(pdu []byte, i int) []byte {
	b, err := AppendSegment(nil, sampleLinkID, 0x02, pdu, i)
	if err != nil {
		panic(err)
	}
	return b
}

// testRand is a deterministic io.Reader (xorshift64*) for Random values and
// OOB numbers in tests; small enough for the TinyGo test binary.
type testRand struct{ s uint64 }

func newTestRand(seed uint64) *testRand { return &testRand{s: seed*0x9e3779b97f4a7c15 + 1} }

func (r *testRand) Read(p []byte) (int, error) {
	for i := range p {
		r.s ^= r.s >> 12
		r.s ^= r.s << 25
		r.s ^= r.s >> 27
		p[i] = byte((r.s * 0x2545f4914f6cdd1d) >> 56)
	}
	return len(p), nil
}
