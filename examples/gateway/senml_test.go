package main

import (
	"testing"
	"time"
)

func TestSenMLJSON(t *testing.T) {
	now := time.Unix(1700000000, 0)
	body := `[{"bn":"urn:dev:ow:10e2073a01080063:","bt":1.320067464e+09,"bu":"%RH","v":20},
	{"u":"lon","v":24.30621},{"n":"lat","u":"lat","v":60.07965,"t":60},{"n":"door","vb":true},{"n":"msg","vs":"hi"}]`
	rs, bn, err := parseSenMLJSON(nil, []byte(body), now)
	if err != nil {
		t.Fatal(err)
	}
	if bn != "urn:dev:ow:10e2073a01080063:" || len(rs) != 5 {
		t.Fatalf("bn %q, %d readings: %+v", bn, len(rs), rs)
	}
	if rs[0].Quantity != "value" || rs[0].Num != 20 || rs[0].Unit != "%RH" || rs[0].Time != 1.320067464e+09 {
		t.Errorf("record 0: %+v", rs[0])
	}
	if rs[1].Unit != "lon" || rs[2].Quantity != "lat" || rs[2].Time != 1.320067464e+09+60 {
		t.Errorf("records 1-2: %+v %+v", rs[1], rs[2])
	}
	if rs[3].Kind != 'b' || rs[3].Num != 1 || rs[4].Kind != 's' || rs[4].Str != "hi" {
		t.Errorf("records 3-4: %+v %+v", rs[3], rs[4])
	}
	// Relative time (no bt): now + t.
	rs, _, err = parseSenMLJSON(nil, []byte(`[{"n":"t","v":1,"t":-5}]`), now)
	if err != nil || rs[0].Time != 1700000000-5 {
		t.Fatalf("relative time: %+v %v", rs, err)
	}
	for _, bad := range []string{``, `{}`, `[{"n":"x"}]`, `[1]`, `[{"n":"x","v":"str"}]`} {
		if _, _, err := parseSenMLJSON(nil, []byte(bad), now); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestSenMLCBORRoundTrip(t *testing.T) {
	now := time.Unix(1700000000, 0)
	in := []reading{{Quantity: "temperature", Unit: "Cel", Num: 21.25, Time: 1.7e9}, {Quantity: "humidity", Num: -3, Time: 1.7e9 + 1}}
	b := appendSenMLCBOR(nil, "dev7:", in)
	rs, bn, err := parseSenMLCBOR(nil, b, now)
	if err != nil || bn != "dev7:" || len(rs) != 2 {
		t.Fatalf("%v %q %+v", err, bn, rs)
	}
	if rs[0].Quantity != "temperature" || rs[0].Num != 21.25 || rs[0].Unit != "Cel" || rs[1].Num != -3 || rs[1].Time != 1.7e9+1 {
		t.Fatalf("decoded %+v", rs)
	}
	// RFC 8428 §6 style with small ints and a half float: [{0: "x", 2: 1.5}]
	rs, _, err = parseSenMLCBOR(nil, []byte{0x81, 0xa2, 0x00, 0x61, 'x', 0x02, 0xf9, 0x3e, 0x00}, now)
	if err != nil || rs[0].Quantity != "x" || rs[0].Num != 1.5 {
		t.Fatalf("half float: %+v %v", rs, err)
	}
	for i := range b {
		if _, _, err := parseSenMLCBOR(nil, b[:i], now); err == nil {
			t.Fatalf("truncated at %d accepted", i)
		}
	}
}

func TestParsePlain(t *testing.T) {
	now := time.Unix(1700000000, 0)
	for in, want := range map[string]float64{"21.5": 21.5, " -3 ": -3, "on": 1, "OFF": 0, "true": 1} {
		rs, err := parsePlain(nil, "q", []byte(in), now)
		if err != nil || rs[0].Num != want {
			t.Errorf("%q: %+v %v", in, rs, err)
		}
	}
	for _, bad := range []string{"", "abc", "NaN", "1e999"} {
		if _, err := parsePlain(nil, "q", []byte(bad), now); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestSensorStatusSenML(t *testing.T) {
	d := &meshDevice{temp: 21.5}
	got := string(appendSensorSenML(nil, d.sensorStatus()))
	if got != `[{"n":"temperature","u":"Cel","v":21.5}]` {
		t.Fatalf("got %s", got)
	}
	rs, _, err := parseSenMLJSON(nil, []byte(got), time.Now())
	if err != nil || rs[0].Num != 21.5 {
		t.Fatalf("%+v %v", rs, err)
	}
}

func FuzzSenMLCBOR(f *testing.F) {
	f.Add(appendSenMLCBOR(nil, "d:", []reading{{Quantity: "t", Unit: "Cel", Num: 1, Time: 2}}))
	f.Add([]byte{0x81, 0xa2, 0x00, 0x61, 'x', 0x02, 0xf9, 0x3e, 0x00})
	f.Add([]byte{0x9f, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, _, err := parseSenMLCBOR(nil, b, time.Unix(0, 0))
		if err == nil && len(rs) > maxRecords {
			t.Fatalf("%d records", len(rs))
		}
	})
}

func FuzzSenMLJSON(f *testing.F) {
	f.Add([]byte(`[{"bn":"a:","n":"t","v":1}]`))
	f.Add([]byte(`[{"n":"x","vs":"s"},{"n":"y","vb":false}]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, _, err := parseSenMLJSON(nil, b, time.Unix(0, 0))
		if err == nil && len(rs) > maxRecords {
			t.Fatalf("%d records", len(rs))
		}
	})
}

func FuzzSensorStatus(f *testing.F) {
	f.Add((&meshDevice{temp: 20}).sensorStatus())
	f.Add([]byte{0x01, 0x4f, 0x00, 0x05})
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = appendSensorSenML(nil, b)
	})
}
