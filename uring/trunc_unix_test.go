//go:build unix

package uring_test

const msgTruncSupported = true
