package sys

// SockFilter is one classic BPF instruction (struct sock_filter).
type SockFilter struct {
	Code uint16
	Jt   uint8
	Jf   uint8
	K    uint32
}

// Classic BPF opcodes and ancillary offsets for building socket filters and
// SO_ATTACH_REUSEPORT_CBPF programs (linux/filter.h, linux/bpf_common.h).
const (
	BPFLdWAbs  = 0x20 // BPF_LD | BPF_W | BPF_ABS: A = word at K
	BPFAluModK = 0x94 // BPF_ALU | BPF_MOD | BPF_K: A %= K
	BPFRetA    = 0x16 // BPF_RET | BPF_A: return A
	BPFRetK    = 0x06 // BPF_RET | BPF_K: return K

	SKFAdOff = 0xfffff000 // SKF_AD_OFF (-0x1000 as a uint32 K): base of the ancillary offsets
	SKFAdCPU = 36         // SKF_AD_CPU: the CPU that processes the packet
)
