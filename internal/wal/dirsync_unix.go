//go:build unix

package wal

import (
	"errors"
	"os"
	"syscall"
)

// syncDir makes the directory's entries (created, renamed, removed files)
// durable. File systems that cannot sync a directory (EINVAL, ENOTSUP) are
// taken at their word.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) {
		err = nil
	}
	return err
}
