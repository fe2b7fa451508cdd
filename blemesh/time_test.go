//go:build !tinygo

package blemesh_test

import "time"

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// at returns epoch + ms milliseconds.
func at(ms int) time.Time { return epoch.Add(time.Duration(ms) * time.Millisecond) }
