//go:build !unix

package uring_test

// msgTruncSupported: Windows reports truncation as an error, not a flag.
const msgTruncSupported = false
