//go:build !tinygo

package bearer_test

const lossSends = 1000
