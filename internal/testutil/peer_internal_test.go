package testutil

import (
	"errors"
	"fmt"
	"testing"
)

func TestTailBuffer(t *testing.T) {
	b := &tailBuffer{limit: 8}
	b.Write([]byte("abc"))
	if got := b.String(); got != "abc" {
		t.Fatalf("String = %q", got)
	}
	b.Write([]byte("defghij"))
	if got, want := b.String(), "[... 2 earlier bytes dropped ...]\ncdefghij"; got != want {
		t.Fatalf("String = %q; want %q", got, want)
	}
	b.Write([]byte("0123456789ABCDEF"))
	if got, want := b.String(), "[... 18 earlier bytes dropped ...]\n89ABCDEF"; got != want {
		t.Fatalf("String = %q; want %q", got, want)
	}
}

func TestPortTaken(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("testutil: mosquitto (pid 1) %w: exit status 1\n--- output ---\nError: Address already in use", errExited), true},
		{fmt.Errorf("testutil: coap-server-notls (pid 1) %w: exit status 255\nbind: Address already in use", errExited), true},
		{fmt.Errorf("testutil: mosquitto (pid 1) %w: exit status 3\nError: Unknown configuration variable", errExited), false},
		{errors.New("testutil: mosquitto (pid 1) not ready after 10s: Address already in use"), false},
	} {
		if got := portTaken(tc.err); got != tc.want {
			t.Errorf("portTaken(%q) = %v; want %v", tc.err, got, tc.want)
		}
	}
}
