package testutil

import (
	"errors"
	"testing"
)

// SkipIfUnsupported skips the test if err wraps [errors.ErrUnsupported], and
// fails it if err is the bare sentinel, which edgekit never returns without
// context (STYLE R14). Any other error, or nil, is left to the caller.
func SkipIfUnsupported(tb testing.TB, err error) {
	tb.Helper()
	if err == errors.ErrUnsupported {
		tb.Fatal("unwrapped ErrUnsupported")
	}
	if errors.Is(err, errors.ErrUnsupported) {
		tb.Skip(err)
	}
}
