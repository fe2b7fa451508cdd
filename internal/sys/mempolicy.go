package sys

// NUMA memory policy modes for Mbind and SetMempolicy (linux/mempolicy.h).
const (
	MPOLDefault    = 0
	MPOLPreferred  = 1
	MPOLBind       = 2
	MPOLInterleave = 3
	MPOLLocal      = 4
)

// Mbind flags (linux/mempolicy.h).
const (
	MPOLMFStrict = 1 << 0 // fail if existing pages do not follow the policy
	MPOLMFMove   = 1 << 1 // move existing pages of this mapping
)
