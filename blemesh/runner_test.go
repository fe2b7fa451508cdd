//go:build !tinygo

package blemesh_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The runner itself: a field no checker reads is reported, and kinds
// without a checker are not silently accepted.
func TestRunnerTracksFields(t *testing.T) {
	var s sample
	if err := json.Unmarshal([]byte(`{"id":"x","kind":"s1","inputs":{"m":"74657374","extra":{"a":[1,2]}},"expected":{"salt":"b73cefbd641ef2ea598c2b6efb62f79c"}}`), &s); err != nil {
		t.Fatal(err)
	}
	var n counter
	c := &checkCtx{t: t, s: &s, used: map[string]bool{}, n: &n}
	checkers["s1"](c, &s)
	left := c.unconsumed()
	if len(left) != 2 || left[0] != "inputs.extra.a[0]" || left[1] != "inputs.extra.a[1]" {
		t.Fatalf("unconsumed = %v", left)
	}
	if n.passed != 1 || n.failed != 0 {
		t.Fatalf("counter %+v", n)
	}
	if checkers["no_such_kind"] != nil {
		t.Fatal("unknown kind has a checker")
	}
	for _, k := range []string{"s1", "k1", "k2", "k3", "k4", "identity_key", "beacon_key", "private_beacon_key", "virtual_address",
		"mesh_message", "unprovisioned_device_beacon", "secure_network_beacon", "mesh_private_beacon",
		"proxy_configuration_message", "solicitation_pdu", "composition_data_page0",
		// the rest of SCHEMA.md's table
		"provisioning_service_data", "proxy_service_data", "p256_ecdh", "provisioning_crypto", "pb_adv", "proxy_pdu_sar"} {
		if checkers[k] == nil {
			t.Errorf("kind %s has no checker", k)
		}
	}
}

// ---- self-tests of the runner against mutated sample files ----
//
// Each case writes a sample file (the specification file plus the
// cross-check samples, so that every kind and behaviour is present), applies
// one mutation to the compact JSON text of one sample (key order is kept),
// and runs TestSpecSampleData on it in a child process of this test binary
// with EDGEKIT_BLEMESH_SAMPLES pointing at it. A mutated file must FAIL, with
// the expected message, without a panic, and still print the last line.

// mergedSampleFile returns the top-level object and the compact samples of
// the specification file with the cross-check samples appended.
func mergedSampleFile(t *testing.T) (map[string]json.RawMessage, []string, []string) {
	t.Helper()
	var ids []string
	var samples []string
	var top map[string]json.RawMessage
	seen := map[string]bool{}
	for i, p := range []string{"testdata/spec-sample-data.json", "testdata/crosscheck-samples.json"} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var f map[string]json.RawMessage
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			top = f
		}
		var raws []json.RawMessage
		if err := json.Unmarshal(f["samples"], &raws); err != nil {
			t.Fatal(err)
		}
		for _, r := range raws {
			var buf bytes.Buffer
			if err := json.Compact(&buf, r); err != nil {
				t.Fatal(err)
			}
			var id struct{ ID string }
			_ = json.Unmarshal(r, &id)
			if seen[id.ID] {
				continue
			}
			seen[id.ID] = true
			ids = append(ids, id.ID)
			samples = append(samples, buf.String())
		}
	}
	return top, ids, samples
}

type mutation struct {
	name     string
	id       string // sample to mutate ("" = none)
	old, new string // replaced once in the sample's compact JSON
	topKey   string // extra top-level key to add
	want     string // text the failing run must print
}

// runChild runs TestSpecSampleData on the file and returns its output and
// whether it passed.
func runChild(t *testing.T, file []byte) (string, bool) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "samples.json")
	if err := os.WriteFile(p, file, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestSpecSampleData$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "EDGEKIT_BLEMESH_SAMPLES="+p)
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

func buildFile(t *testing.T, m mutation) []byte {
	t.Helper()
	top, ids, samples := mergedSampleFile(t)
	if m.id != "" {
		found := false
		for i, id := range ids {
			if id == m.id {
				found = true
				if !strings.Contains(samples[i], m.old) {
					t.Fatalf("%s: %q not in sample %s: %s", m.name, m.old, m.id, samples[i])
				}
				samples[i] = strings.Replace(samples[i], m.old, m.new, 1)
			}
		}
		if !found {
			t.Fatalf("%s: no sample %s", m.name, m.id)
		}
	}
	top["samples"] = json.RawMessage("[" + strings.Join(samples, ",") + "]")
	if m.topKey != "" {
		top[m.topKey] = json.RawMessage(`"x"`)
	}
	b, err := json.Marshal(top)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRunnerMergedFilePasses: the unmutated merged file passes, runs every
// kind of the schema and every behaviour against the file itself.
func TestRunnerMergedFilePasses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child test process")
	}
	out, ok := runChild(t, buildFile(t, mutation{name: "none"}))
	if !ok {
		t.Fatalf("merged file fails:\n%s", out)
	}
	if !strings.Contains(out, "blemesh sample data: ") {
		t.Fatalf("no last line:\n%s", out)
	}
	for _, b := range behaviours {
		if !strings.Contains(out, "--- PASS: TestSpecSampleData/behaviour/"+b.name+" ") {
			t.Errorf("behaviour %s did not run against the file", b.name)
		}
	}
	for _, id := range []string{"composition-8.10.1", "solicitation-derived-1", "msg-11", "msg-13", "msg-08"} {
		if !strings.Contains(out, "--- PASS: TestSpecSampleData/"+id+" ") {
			t.Errorf("sample %s did not pass", id)
		}
	}
}

func TestRunnerRejectsMutations(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child test processes")
	}
	cases := []mutation{
		// a. friendship objects
		{name: "friendship with unknown fields on flooding", id: "msg-01", old: `"credentials":"flooding"`,
			new: `"credentials":"flooding","friendship":{"lpn_addr":"0203","friend_counter":"0099"}`, want: "unknown friendship field"},
		{name: "friendship counter changed", id: "msg-04", old: `"friend_counter":"072f"`, new: `"friend_counter":"0730"`, want: "expected.nid"},
		{name: "friendship extra field", id: "msg-04", old: `"friend_counter":"072f"`, new: `"friend_counter":"072f","lpn_addr":"0203"`, want: "unknown friendship field"},
		{name: "friendship missing field", id: "k2-8.1.4", old: `,"friend_counter":"0809"`, new: ``, want: "missing field inputs.friendship.friend_counter"},
		{name: "k2 friendship field renamed", id: "k2-8.1.4", old: `"lpn_address"`, new: `"lpn_addr"`, want: "unknown friendship field"},
		{name: "friendship not an object", id: "msg-04", old: `"friendship":{"lpn_address":"1201","friend_address":"2345","lpn_counter":"0000","friend_counter":"072f"}`, new: `"friendship":"1201"`, want: "not an object"},
		// b. prose keys
		{name: "composition loc_name", id: "composition-8.10.1", old: `"loc":"0100"`, new: `"loc":"0100","loc_name":"0200"`, want: "unknown element field"},
		{name: "composition model description number", id: "composition-8.10.1", old: `"model_id":"002a"`, new: `"model_id":"002a","model_number":"002b"`, want: "unknown model field"},
		// c. missing / mistyped fields, panics
		{name: "pecb missing", id: "msg-01", old: `"pecb":"6ca487507564",`, new: ``, want: "pecb is missing"},
		{name: "pecb a number", id: "msg-01", old: `"pecb":"6ca487507564"`, new: `"pecb":12`, want: "pecb is missing or not a hex string"},
		{name: "ttl a string", id: "msg-01", old: `"ttl":0`, new: `"ttl":"00"`, want: "is not an integer"},
		{name: "inputs an array", id: "k3-8.1.5", old: `"inputs":{`, new: `"inputs":[],"x":{`, want: "unknown sample key"},
		{name: "expected a string", id: "k3-8.1.5", old: `"expected":{`, new: `"expected":"oops","x_expected":{`, want: "cannot read the sample"},
		{name: "network_pdus an object", id: "msg-01", old: `"network_pdus":[`, new: `"network_pdus":"x","old_pdus":[`, want: "--- FAIL: TestSpecSampleData/msg-01"},
		{name: "empty uri_data", id: "beacon-unprov-uri", old: `"uri_data":"`, new: `"uri_data":"","was":"`, want: "uri_data is empty"},
		// d. unknown keys
		{name: "unknown sample key", id: "msg-01", old: `"kind":"mesh_message"`, new: `"kind":"mesh_message","direction":"decode_only"`, want: `unknown sample key "direction"`},
		{name: "unknown file key", topKey: "extra_section", want: `unknown top-level key "extra_section"`},
		{name: "unknown kind", id: "k3-8.1.5", old: `"kind":"k3"`, new: `"kind":"k3_new"`, want: "no checker for kind"},
		// f. composition and solicitation
		{name: "composition loc changed", id: "composition-8.10.1", old: `"loc":"0100"`, new: `"loc":"0200"`, want: "expected.elements[0].loc"},
		{name: "composition features_decoded wrong", id: "composition-8.10.1", old: `["relay","proxy"]`, new: `["relay","friend"]`, want: "features_decoded"},
		{name: "composition unknown feature", id: "composition-8.10.1", old: `["relay","proxy"]`, new: `["relay","proxy","teleport"]`, want: "unknown feature"},
		{name: "composition vendor company", id: "composition-8.10.1", old: `"company_id":"003f"`, new: `"company_id":"0040"`, want: "company_id"},
		{name: "composition unknown expected", id: "composition-8.10.1", old: `"crpl":"0008"`, new: `"crpl":"0008","lpn_poll":"01"`, want: "was not checked"},
		{name: "composition sig model", id: "composition-8.10.1", old: `"1003"`, new: `"1004"`, want: "sig_models[4]"},
		{name: "solicitation mic", id: "solicitation-derived-1", old: `"net_mic":"29287a116f7e164e"`, new: `"net_mic":"29287a116f7e164f"`, want: "expected.net_mic"},
		{name: "solicitation unknown input", id: "solicitation-derived-1", old: `"dst":"0000"`, new: `"dst":"0000","ssrc":"1202"`, want: "was not checked"},
	}
	for _, m := range cases {
		m := m
		t.Run(m.name, func(t *testing.T) {
			out, ok := runChild(t, buildFile(t, m))
			if ok {
				t.Fatalf("mutated file passes")
			}
			if !strings.Contains(out, m.want) {
				t.Errorf("output lacks %q:\n%s", m.want, tail(out, 3000))
			}
			if !strings.Contains(out, "blemesh sample data: ") {
				t.Errorf("last line lost:\n%s", tail(out, 3000))
			}
			if strings.Contains(out, "goroutine ") && strings.Contains(out, "[running]") {
				t.Errorf("the test binary crashed:\n%s", tail(out, 3000))
			}
		})
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// A checker that panics fails its sample; the run goes on and still logs
// the last line (runGuarded). The probe runs in a child process because it
// must fail.
func TestRunnerRecoversPanics(t *testing.T) {
	if os.Getenv("EDGEKIT_BLEMESH_PANIC_PROBE") == "1" {
		checkers["panic_probe"] = func(c *checkCtx, s *sample) {
			var b []byte
			_ = b[len(s.ID)]
		}
		defer delete(checkers, "panic_probe")
		f := &sampleFile{Samples: []*sample{
			{ID: "probe-1", Kind: "panic_probe", Inputs: map[string]any{}, Expected: map[string]any{}},
			{ID: "s1-after", Kind: "s1", Inputs: map[string]any{"m": "74657374"}, Expected: map[string]any{"salt": "b73cefbd641ef2ea598c2b6efb62f79c"}},
		}}
		runSamples(t, f)
		return
	}
	if testing.Short() {
		t.Skip("runs a child test process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestRunnerRecoversPanics$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), "EDGEKIT_BLEMESH_PANIC_PROBE=1")
	out, err := cmd.CombinedOutput()
	o := string(out)
	if err == nil {
		t.Fatalf("probe passed:\n%s", o)
	}
	for _, want := range []string{"sample probe-1: panic: runtime error: index out of range", "--- PASS: TestRunnerRecoversPanics/s1-after", "blemesh sample data: 2 samples, 1 checks passed"} {
		if !strings.Contains(o, want) {
			t.Errorf("probe output lacks %q:\n%s", want, tail(o, 3000))
		}
	}
}
