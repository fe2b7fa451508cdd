package main

import (
	"bytes"
	"os"
	"testing"
)

// TestGeneratedIsCurrent fails when coap/zz_options.go differs from what
// options.csv generates: run "go generate" in coap.
func TestGeneratedIsCurrent(t *testing.T) {
	rows, err := read("options.csv")
	if err != nil {
		t.Fatal(err)
	}
	want, err := generate(rows)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../../zz_options.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("coap/zz_options.go is stale; run go generate in coap")
	}
	if len(rows) < 25 {
		t.Fatalf("%d options; the registry has more", len(rows))
	}
}
