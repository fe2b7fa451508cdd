//go:build unix

package uring

import "syscall"

// msgTrunc is the recvmsg flag of a truncated datagram.
const msgTrunc = syscall.MSG_TRUNC
