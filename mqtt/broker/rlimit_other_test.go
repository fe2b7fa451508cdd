//go:build !unix

package broker

import "testing"

func raiseNoFile(t *testing.T, n uint64) { t.Skip("no RLIMIT_NOFILE on this platform") }

func raiseNoFileMax() {}
