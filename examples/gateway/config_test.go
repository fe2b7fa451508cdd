package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConfigErrorsNameTheKey(t *testing.T) {
	cases := []struct {
		toml, key string
	}{
		{"gateway = \"x\"\n[coap]\nlisten = \"127.0.0.1:5683\"\nlistn = 1\n", "coap.listn"},
		{"[uplink]\nqos = 2\n", "uplink.qos"},
		{"[coap]\nworkers = \"two\"\n", "coap.workers"},
		{"[coap]\nlisten = \"localhost\"\n", "coap.listen"},
		{"[devices]\noffline_after = \"soon\"\n", "devices.offline_after"},
		{"[coap]\nbackend = \"epoll\"\n", "coap.backend"},
		{"gateway = \"a/b\"\n", "gateway"},
		{"[pipeline]\nack = \"never\"\n", "pipeline.ack"},
		{"[coap.dtls]\nlisten = \"127.0.0.1:5684\"\n", "coap.dtls.psk"},
		{"[coap.dtls.psk]\ndev1 = \"zz\"\n", "coap.dtls.psk.dev1"},
		{"[nosuch]\nx = 1\n", "nosuch"},
	}
	for _, c := range cases {
		var cfg Config
		err := parseConfig(c.toml, &cfg)
		if err == nil {
			cfg.applyDefaults(false)
			err = cfg.validate()
		}
		if err == nil {
			t.Errorf("%q: no error", c.toml)
			continue
		}
		var ke *keyError
		if !errors.As(err, &ke) || !errors.Is(err, ErrConfig) || !strings.HasPrefix(ke.Key, c.key) {
			t.Errorf("%q: error %q does not name key %q", c.toml, err, c.key)
		}
	}
}

func TestConfigDefaultsAndFlags(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gw.toml")
	if err := os.WriteFile(path, []byte(`
gateway = "file"
[coap]
listen = "127.0.0.1:5999"
[devices]
offline_after = "1m"
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, o, err := parseArgs([]string{"-config", path, "-gateway", "flag", "-uplink", "127.0.0.1:1"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Gateway != "flag" || cfg.CoAP.Listen != "127.0.0.1:5999" || cfg.Devices.OfflineAfter.D() != time.Minute ||
		cfg.Uplink.Addr != "127.0.0.1:1" || cfg.Uplink.QoS != 1 || cfg.Pipeline.Ack != "queued" || o.demo {
		t.Fatalf("merged config: %+v", cfg)
	}
	if _, _, err := parseArgs([]string{"-config", filepath.Join(t.TempDir(), "missing.toml")}, io.Discard); err == nil {
		t.Fatal("missing config file accepted")
	}
	cfg, o, err = parseArgs([]string{"-demo"}, io.Discard)
	if err != nil || !o.demo || cfg.Demo.CoAPSensors == 0 || cfg.Demo.MeshNodes == 0 || cfg.HTTP.Listen == "" {
		t.Fatalf("demo defaults: %+v %v", cfg, err)
	}
}

// TestExampleConfig keeps gateway.example.toml valid.
func TestExampleConfig(t *testing.T) {
	var cfg Config
	if err := loadConfig("gateway.example.toml", &cfg); err != nil {
		t.Fatal(err)
	}
	cfg.applyDefaults(false)
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
}
