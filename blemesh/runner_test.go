//go:build !tinygo

package blemesh_test

import (
	"encoding/json"
	"testing"
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
		"proxy_configuration_message", "solicitation_pdu", "composition_data_page0"} {
		if checkers[k] == nil {
			t.Errorf("kind %s has no checker", k)
		}
	}
}
