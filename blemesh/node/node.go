package node

import (
	"errors"
	"io"
	"time"

	"github.com/edgekit/edgekit/blemesh/access"
	"github.com/edgekit/edgekit/blemesh/beacon"
	"github.com/edgekit/edgekit/blemesh/bearer"
	"github.com/edgekit/edgekit/blemesh/network"
	"github.com/edgekit/edgekit/blemesh/prov"
	"github.com/edgekit/edgekit/blemesh/transport"
)

// Defaults of Config.
const (
	DefaultTTL                       = 7
	DefaultSeqBlock                  = 256
	DefaultBeaconInterval            = 10 * time.Second
	DefaultUnprovBeaconPeriod        = 5 * time.Second
	DefaultTransmitInterval          = 20 * time.Millisecond
	DefaultMaxNetKeys                = 2
	DefaultMaxAppKeys                = 4
	DefaultMaxRemoteDevKeys          = 16
	DefaultMaxSegmentedSends         = 2
	DefaultTxQueueLen                = 64
	DefaultMaxPublishLen             = 32
	MaxSeq                           = 0xffffff
	seqIVUpdateThreshold             = 0xc00000
	maxAccessLen                     = transport.MaxAccessPDULen
	ModelConfigServer         uint16 = 0x0000
	ModelConfigClient         uint16 = 0x0001
	ModelHealthServer         uint16 = 0x0002
)

// Errors.
var (
	ErrNotProvisioned = errors.New("blemesh/node: node is not provisioned")
	ErrProvisioned    = errors.New("blemesh/node: node is already provisioned")
	ErrNoKey          = errors.New("blemesh/node: no such key")
	ErrNoModel        = errors.New("blemesh/node: no such model or publication")
	ErrBusy           = errors.New("blemesh/node: no free transmit context")
	ErrTooLong        = errors.New("blemesh/node: message too long")
	ErrSeqExhausted   = errors.New("blemesh/node: sequence numbers exhausted (IV Update needed)")
	ErrConfig         = errors.New("blemesh/node: invalid configuration")
	ErrNoLabel        = errors.New("blemesh/node: virtual destination without a known Label UUID")
)

// Element is one element of the node: its location descriptor and the
// application models on it (the Configuration Server and Client are added
// to the primary element by the node).
type Element struct {
	Loc    uint16
	Models []Model
}

// Model is an application model: its ID and the opcodes it receives.
type Model struct {
	ID      access.ModelID
	Opcodes []access.Opcode
	// State, when set, appends the parameters of the model's current state
	// to params and returns the status opcode; the node calls it for each
	// periodic publication (Model Publication Period, Mesh Protocol 1.1
	// §4.2.3.4). Without State a periodic publication repeats the last
	// message given to [Node.Publish]. It must not retain params.
	State func(now time.Time, params []byte) (op access.Opcode, out []byte, ok bool)
}

// Message is a received access message delivered to [Config.Handler]. Params
// aliases the node's buffer and is valid only during the call.
type Message struct {
	Element     int            // index of the receiving element
	Model       access.ModelID // receiving model (ModelConfigClient for device-key messages from other nodes)
	Opcode      access.Opcode
	Params      []byte
	SRC, DST    uint16
	TTL         uint8
	AppKeyIndex uint16 // valid when !DevKey
	DevKey      bool   // secured with a device key
	// Label is the Label UUID of a virtual DST (the one that authenticated
	// the message), nil otherwise. It aliases the node's state and is
	// valid only during the call.
	Label *[16]byte
}

// Handler receives access messages for application models and the
// Configuration Client.
type Handler func(n *Node, now time.Time, m *Message)

// Config configures a Node. The zero value is not usable: UUID and Bearer
// must be set. Everything else has documented defaults.
type Config struct {
	UUID          [16]byte
	CID, PID, VID uint16
	Elements      []Element // 0 elements means one element without application models
	Bearer        bearer.Bearer
	// Storage persists SEQ and the replay list; nil means a MemStorage.
	Storage Storage
	// SeqBlock is how many sequence numbers are reserved per StoreSeq
	// call; 0 means DefaultSeqBlock.
	SeqBlock uint32
	Handler  Handler
	// Relay, Friend and LowPower enable the features (their initial
	// Configuration Server states).
	Relay, Friend, LowPower bool
	// Beacon enables Secure Network beacons (default: enabled unless
	// NoBeacon).
	NoBeacon       bool
	BeaconInterval time.Duration // 0: DefaultBeaconInterval
	// UnprovBeaconPeriod is the Unprovisioned Device beacon interval of an
	// unprovisioned node; 0 means DefaultUnprovBeaconPeriod.
	UnprovBeaconPeriod time.Duration
	DefaultTTL         uint8 // 0: DefaultTTL
	// TransmitCount is how many extra times each network PDU is sent
	// (Network Transmit state), TransmitInterval apart; RelayCount the same
	// for relayed PDUs.
	TransmitCount, RelayCount int
	TransmitInterval          time.Duration // 0: DefaultTransmitInterval
	// Limits; 0 means the defaults.
	MaxNetKeys, MaxAppKeys, MaxRemoteDevKeys, MaxSegmentedSends, TxQueueLen int
	// MaxPublishLen is the longest access payload (opcode and parameters)
	// a model keeps for publish retransmissions and periodic republishing
	// (one buffer per application model); 0 means DefaultMaxPublishLen.
	MaxPublishLen int
	Cache         network.CacheConfig
	Replay        transport.ReplayConfig
	Reassembly    transport.ReassemblyConfig
	SAR           transport.SARConfig
	IV            beacon.IVConfig
	// Friend and Low Power Node parameters.
	FriendCfg FriendConfig
	LPN       LPNConfig
	// Provisioning (both roles).
	Algorithms prov.Algorithms // device: supported algorithms; 0 means CMAC|HMAC
	KeyPair    prov.KeyPair    // nil: a fresh P-256 pair per run
	Link       prov.LinkConfig
	// OnUnprovisioned is called for each Unprovisioned Device beacon heard.
	OnUnprovisioned func(uuid [16]byte, oobInfo uint16)
	// Rand supplies link IDs and random values; nil means crypto/rand.
	Rand io.Reader
	// OnHeartbeat, when set, is called for each Heartbeat message counted
	// by the Heartbeat Subscription, with the hops it travelled and the
	// sender's features (Heartbeat* bits).
	OnHeartbeat func(src, dst uint16, hops uint8, features uint16)
}

// Stats are a node's counters.
type Stats struct {
	RxMessages, RxBeacons, RxPBADV     uint64
	NetDropped, Duplicates, OwnDropped uint64
	Relayed, Replays, UpperDropped     uint64
	Delivered, ConfigHandled           uint64
	Sent, TxDropped, SegDelivered      uint64
	SegFailed, AcksSent, BeaconsSent   uint64
	FriendQueued, FriendDropped        uint64
	LPNAsleepDropped, Polls            uint64
	// Published counts periodic publications and publish
	// retransmissions sent by Tick; PubFailed those that could not be.
	Published, PubFailed         uint64
	HeartbeatsSent, HeartbeatsRx uint64
}

type subnet struct {
	used   bool
	index  uint16
	key    [16]byte
	newKey [16]byte
	kr     beacon.KeyRefresh
	net    [2]network.Keys
	bcn    [2]beacon.NetKeys
}

// netSet describes one entry of Node.netSets.
type netSet struct {
	sub    int
	newKey bool
	friend int // -1: flooding; >= 0: friendship slot (friend side), lpnSlot: the LPN's own
}

const lpnSlot = 1 << 10

type akKind uint8

const (
	akOwnDev akKind = iota
	akRemoteDev
	akApp
)

type akInfo struct {
	kind   akKind
	index  uint16 // app key index
	netIdx uint16
	addr   uint16 // remote dev key: primary address
	n      uint8  // remote dev key: elements
	newKey bool
}

type txEntry struct {
	used     bool
	due      time.Time
	left     uint8
	typ      uint8
	n        uint8
	interval time.Duration
	buf      [bearer.MaxPayloadLen]byte
}

type segTx struct {
	used   bool
	sub    int
	src    uint16
	dst    uint16
	ttl    uint8
	iv     uint32
	seq0   uint32
	first  bool
	sender transport.Sender
	buf    [maxAccessLen]byte
}

type remoteDev struct {
	addr uint16
	n    uint8
	key  [16]byte
}

// Node is a Bluetooth Mesh node: network, lower and upper transport,
// access layer with the Configuration Server (and Client), beacons with the
// IV Update and Key Refresh procedures, relay, Friend and Low Power Node
// features, and provisioning over PB-ADV in both roles.
//
// A Node does no I/O of its own and starts no goroutines: the owner feeds
// it received advertisements with [Node.Receive], calls [Node.Tick] at
// [Node.Deadline], and gives it a [bearer.Bearer] to send through. It is not
// safe for concurrent use; [Run] is a small loop that serialises both
// directions. Receiving an access message for an application model
// (decrypt, replay check, dispatch) does not allocate.
type Node struct {
	cfg   Config
	store Storage
	rand  io.Reader

	provisioned bool
	addr        uint16
	nElems      int
	iv          beacon.IVUpdate
	seq         uint32
	seqLimit    uint32

	subnets []subnet
	netSets []network.Keys
	netInfo []netSet

	devKey  [16]byte
	remote  []remoteDev
	akeys   []transport.AccessKey
	akInfo  []akInfo
	cfgSrv  access.ConfigServer
	cache   *network.Cache
	rpl     *transport.ReplayList
	reasm   *transport.Reassembler
	tx      []txEntry
	segs    []segTx
	friends []friendship
	lpn     lpnState

	nextBeacon time.Time
	devSess    *prov.DeviceSession
	provSess   *prov.ProvisionerSession
	provRes    ProvisionResult
	provAddr   uint16

	stats Stats

	// scratch
	adv        bearer.Adv
	tpdu       [network.MaxPDULen]byte
	lower      [network.MaxPDULen]byte
	upper      [maxAccessLen + 8]byte
	accBuf     [maxAccessLen + 8]byte
	resp       [maxAccessLen]byte
	cfgIn      [maxAccessLen]byte
	cfgLen     int
	cfgOp      access.Opcode
	cfgSrc     uint16
	cfgDst     uint16
	cfgPending bool
	out        [maxAccessLen + 4]byte
	pbadv      [bearer.MaxPayloadLen]byte
	reMsg      transport.Reassembled
	ackOut     transport.AckOut
	acks       []transport.AckOut
	route      [16]int
	msg        Message
	msgLabel   *[16]byte
	// labels are the Label UUIDs the models subscribe to, tried on
	// messages to virtual addresses (rebuilt by syncKeys).
	labels []transport.Label
	// pubs parallels cfgSrv.Models: publication timers and buffers.
	pubs   []pubState
	hb     hbState
	hbMsg  transport.Heartbeat
	ctlBuf [transport.MaxUnsegControlLen]byte
	ctl    transport.ControlSet
}

// ProvisionResult is the outcome of the last [Node.ProvisionDevice].
type ProvisionResult struct {
	UUID     [16]byte
	Address  uint16
	Elements uint8
	DevKey   [16]byte
	Done     bool
	Err      error
}

func orInt(v, d int) int {
	if v <= 0 {
		return d
	}
	return v
}

func orDur(v, d time.Duration) time.Duration {
	if v <= 0 {
		return d
	}
	return v
}

// New returns an unprovisioned node that sends Unprovisioned Device beacons
// and waits to be provisioned over PB-ADV, or, after [Node.SelfProvision],
// a node of a network (a provisioner creates its own network that way).
func New(cfg Config) (*Node, error) {
	if cfg.Bearer == nil {
		return nil, ErrConfig
	}
	if len(cfg.Elements) == 0 {
		cfg.Elements = []Element{{}}
	}
	if cfg.Storage == nil {
		cfg.Storage = &MemStorage{}
	}
	if cfg.SeqBlock == 0 {
		cfg.SeqBlock = DefaultSeqBlock
	}
	if cfg.DefaultTTL == 0 || cfg.DefaultTTL > 0x7f {
		cfg.DefaultTTL = DefaultTTL
	}
	if cfg.Algorithms == 0 {
		cfg.Algorithms = prov.AlgorithmsCMAC | prov.AlgorithmsHMAC
	}
	cfg.BeaconInterval = orDur(cfg.BeaconInterval, DefaultBeaconInterval)
	cfg.UnprovBeaconPeriod = orDur(cfg.UnprovBeaconPeriod, DefaultUnprovBeaconPeriod)
	cfg.TransmitInterval = orDur(cfg.TransmitInterval, DefaultTransmitInterval)
	cfg.MaxNetKeys = orInt(cfg.MaxNetKeys, DefaultMaxNetKeys)
	cfg.MaxAppKeys = orInt(cfg.MaxAppKeys, DefaultMaxAppKeys)
	cfg.MaxRemoteDevKeys = orInt(cfg.MaxRemoteDevKeys, DefaultMaxRemoteDevKeys)
	cfg.MaxSegmentedSends = orInt(cfg.MaxSegmentedSends, DefaultMaxSegmentedSends)
	cfg.TxQueueLen = orInt(cfg.TxQueueLen, DefaultTxQueueLen)
	cfg.MaxPublishLen = orInt(cfg.MaxPublishLen, DefaultMaxPublishLen)
	if cfg.MaxPublishLen > access.MaxPayloadLen {
		cfg.MaxPublishLen = access.MaxPayloadLen
	}
	cfg.FriendCfg.norm()
	cfg.LPN.norm()
	n := &Node{cfg: cfg, store: cfg.Storage, rand: cfg.Rand, nElems: len(cfg.Elements)}
	n.subnets = make([]subnet, cfg.MaxNetKeys)
	maxSets := 2*cfg.MaxNetKeys + cfg.FriendCfg.MaxLPNs + 1
	n.netSets = make([]network.Keys, 0, maxSets)
	n.netInfo = make([]netSet, 0, maxSets)
	n.remote = make([]remoteDev, 0, cfg.MaxRemoteDevKeys)
	maxAK := 1 + cfg.MaxRemoteDevKeys + 2*cfg.MaxAppKeys
	n.akeys = make([]transport.AccessKey, 0, maxAK)
	n.akInfo = make([]akInfo, 0, maxAK)
	n.cache = network.NewCache(cfg.Cache)
	n.rpl = transport.NewReplayList(cfg.Replay)
	rc := cfg.Reassembly
	rc.Replay = n.rpl
	n.reasm = transport.NewReassembler(rc)
	n.tx = make([]txEntry, cfg.TxQueueLen)
	n.segs = make([]segTx, cfg.MaxSegmentedSends)
	n.friends = make([]friendship, cfg.FriendCfg.MaxLPNs)
	n.acks = make([]transport.AckOut, 0, 8)
	n.initConfigServer()
	// Restore the replay list.
	if ents, err := n.store.LoadReplay(nil); err == nil {
		for _, e := range ents {
			n.rpl.Accept(e.SRC, e.SeqAuth)
		}
	}
	if err := n.newDeviceSession(); err != nil {
		return nil, err
	}
	return n, nil
}

func (n *Node) initConfigServer() {
	c := &n.cfgSrv
	c.DefaultTTL = n.cfg.DefaultTTL
	c.Relay = feature(n.cfg.Relay)
	c.Friend = feature(n.cfg.Friend)
	c.Beacon = access.FeatureEnabled
	if n.cfg.NoBeacon {
		c.Beacon = access.FeatureDisabled
	}
	c.GATTProxy = access.FeatureNotSupported
	c.MaxNetKeys, c.MaxAppKeys = n.cfg.MaxNetKeys, n.cfg.MaxAppKeys
	c.NetKeys = make([]access.NetKeyEntry, 0, n.cfg.MaxNetKeys)
	c.AppKeys = make([]access.AppKeyEntry, 0, n.cfg.MaxAppKeys)
	c.Composition = n.composition()
}

func feature(on bool) uint8 {
	if on {
		return access.FeatureEnabled
	}
	return access.FeatureDisabled
}

// composition builds Composition Data page 0.
func (n *Node) composition() []byte {
	var feat uint16 = access.FeatureRelay | access.FeatureFriend | access.FeatureLowPower
	b := make([]byte, 0, 64)
	b = le16(b, n.cfg.CID)
	b = le16(b, n.cfg.PID)
	b = le16(b, n.cfg.VID)
	b = le16(b, uint16(orInt(n.cfg.Replay.Size, transport.DefaultReplayListSize)))
	b = le16(b, feat)
	for i, e := range n.cfg.Elements {
		var sig, vnd []access.ModelID
		if i == 0 {
			sig = append(sig, access.ModelID{ID: ModelConfigServer}, access.ModelID{ID: ModelConfigClient})
		}
		for _, m := range e.Models {
			if m.ID.Vendor {
				vnd = append(vnd, m.ID)
			} else {
				sig = append(sig, m.ID)
			}
		}
		b = le16(b, e.Loc)
		b = append(b, byte(len(sig)), byte(len(vnd)))
		for _, m := range sig {
			b = le16(b, m.ID)
		}
		for _, m := range vnd {
			b = le16(b, m.CompanyID)
			b = le16(b, m.ID)
		}
	}
	return b
}

func le16(b []byte, v uint16) []byte { return append(b, byte(v), byte(v>>8)) }

// models registers the models' states with the Configuration Server once
// the node has its address.
func (n *Node) models() {
	n.cfgSrv.Models = n.cfgSrv.Models[:0]
	for i, e := range n.cfg.Elements {
		addr := n.addr + uint16(i)
		if i == 0 {
			n.cfgSrv.Models = append(n.cfgSrv.Models,
				access.ModelState{Element: addr, ID: access.ModelID{ID: ModelConfigServer}, DevKey: true},
				access.ModelState{Element: addr, ID: access.ModelID{ID: ModelConfigClient}, DevKey: true})
		}
		for _, m := range e.Models {
			n.cfgSrv.Models = append(n.cfgSrv.Models, access.ModelState{
				Element: addr, ID: m.ID, Opcodes: m.Opcodes,
				AppKeys: make([]uint16, 0, access.DefaultMaxBindings),
				Subs:    make([]uint16, 0, access.DefaultMaxSubs),
			})
		}
	}
	n.initPubs()
}

// Provisioned reports whether the node belongs to a network.
func (n *Node) Provisioned() bool { return n.provisioned }

// Address returns the unicast address of the primary element.
func (n *Node) Address() uint16 { return n.addr }

// IVIndex returns the current IV Index and whether an IV Update is in
// progress.
func (n *Node) IVIndex() (uint32, bool) { return n.iv.IVIndex, n.iv.InProgress }

// Seq returns the next sequence number.
func (n *Node) Seq() uint32 { return n.seq }

// Stats returns the counters.
func (n *Node) Stats() Stats { return n.stats }

// ConfigServer returns the node's Configuration Server state (keys, models,
// bindings, publications, subscriptions) for inspection. Modifying it
// directly bypasses the node: use configuration messages instead.
func (n *Node) ConfigServer() *access.ConfigServer { return &n.cfgSrv }

// KeyRefreshPhase returns the Key Refresh phase of the NetKey netIdx.
func (n *Node) KeyRefreshPhase(netIdx uint16) (uint8, bool) {
	if s := n.subnetByIndex(netIdx); s != nil {
		return s.kr.Phase, true
	}
	return 0, false
}

// SelfProvision makes the node a member of a network with the given
// provisioning data and device key, as a provisioner does for itself or a
// device after PB-ADV provisioning.
func (n *Node) SelfProvision(now time.Time, data prov.ProvisioningData, devKey [16]byte) error {
	if n.provisioned {
		return ErrProvisioned
	}
	if err := data.Validate(); err != nil {
		return err
	}
	n.provisioned = true
	n.addr = data.UnicastAddress
	n.devKey = devKey
	n.iv = beacon.NewIVUpdate(n.cfg.IV, data.IVIndex, data.Flags&prov.FlagIVUpdate != 0, now)
	// SEQ: continue after the persisted limit when the IV Index matches.
	n.seq, n.seqLimit = 0, 0
	if iv, lim, ok, err := n.store.LoadSeq(); err == nil && ok && iv == n.iv.IVIndex {
		n.seq, n.seqLimit = lim, lim
	}
	n.cfgSrv.NetKeys = append(n.cfgSrv.NetKeys[:0], access.NetKeyEntry{Index: data.KeyIndex, Key: data.NetKey})
	if data.Flags&prov.FlagKeyRefresh != 0 {
		// Phase 2 with only the new key known: it is both keys.
		n.cfgSrv.NetKeys[0].NewKey, n.cfgSrv.NetKeys[0].Phase = data.NetKey, beacon.PhaseUseNew
	}
	n.models()
	n.syncKeys()
	n.nextBeacon = now
	return nil
}

// AddDevKey records the device key of another node (primary address addr,
// elements elements), so that this node's Configuration Client can talk to
// it. The provisioner role does this itself.
func (n *Node) AddDevKey(addr uint16, elements uint8, key [16]byte) error {
	for i := range n.remote {
		if n.remote[i].addr == addr {
			n.remote[i] = remoteDev{addr, elements, key}
			n.syncKeys()
			return nil
		}
	}
	if len(n.remote) == cap(n.remote) {
		return ErrBusy
	}
	n.remote = append(n.remote, remoteDev{addr, elements, key})
	n.syncKeys()
	return nil
}

func (n *Node) subnetByIndex(idx uint16) *subnet {
	for i := range n.subnets {
		if n.subnets[i].used && n.subnets[i].index == idx {
			return &n.subnets[i]
		}
	}
	return nil
}

// syncKeys brings the derived key material in line with the Configuration
// Server's key lists and the Key Refresh phases. It runs on configuration
// changes, never per PDU.
func (n *Node) syncKeys() {
	// Subnets.
	for i := range n.subnets {
		s := &n.subnets[i]
		if !s.used {
			continue
		}
		found := false
		for _, e := range n.cfgSrv.NetKeys {
			if e.Index == s.index {
				found = true
			}
		}
		if !found {
			*s = subnet{}
		}
	}
	for ei := range n.cfgSrv.NetKeys {
		e := &n.cfgSrv.NetKeys[ei]
		s := n.subnetByIndex(e.Index)
		if s == nil {
			for i := range n.subnets {
				if !n.subnets[i].used {
					s = &n.subnets[i]
					break
				}
			}
			if s == nil {
				continue
			}
			s.used, s.index = true, e.Index
			s.key = e.Key
			s.net[0].Derive(e.Key, []byte{0})
			s.bcn[0].Derive(e.Key)
		}
		if s.key != e.Key {
			s.key = e.Key
			s.net[0].Derive(e.Key, []byte{0})
			s.bcn[0].Derive(e.Key)
		}
		if e.Phase == beacon.PhaseDistribute && s.kr.Phase == beacon.PhaseNormal {
			s.kr.NetKeyUpdate()
		}
		if e.Phase != beacon.PhaseNormal && s.newKey != e.NewKey {
			s.newKey = e.NewKey
			s.net[1].Derive(e.NewKey, []byte{0})
			s.bcn[1].Derive(e.NewKey)
		}
		if e.Phase != beacon.PhaseNormal && s.kr.Phase == beacon.PhaseNormal {
			s.kr.Phase = e.Phase
		}
	}
	n.rebuildSets()
	// Access keys: own device key, remote device keys, application keys.
	n.akeys, n.akInfo = n.akeys[:0], n.akInfo[:0]
	if n.provisioned {
		n.addAccessKey(&n.devKey, true, akInfo{kind: akOwnDev})
	}
	for i := range n.remote {
		r := &n.remote[i]
		n.addAccessKey(&r.key, true, akInfo{kind: akRemoteDev, addr: r.addr, n: r.n})
	}
	for i := range n.cfgSrv.AppKeys {
		a := &n.cfgSrv.AppKeys[i]
		n.addAccessKey(&a.Key, false, akInfo{kind: akApp, index: a.Index, netIdx: a.NetIndex})
		if a.Updated {
			n.addAccessKey(&a.NewKey, false, akInfo{kind: akApp, index: a.Index, netIdx: a.NetIndex, newKey: true})
		}
	}
	n.syncLabels()

}

// rebuildSets lays out the network key sets tried on reception. Keys are
// copied in place (no temporaries: Keys is about 450 octets and TinyGo's
// goroutine stacks are 4 KB).
func (n *Node) rebuildSets() {
	n.netSets, n.netInfo = n.netSets[:0], n.netInfo[:0]
	for i := range n.subnets {
		s := &n.subnets[i]
		if !s.used {
			continue
		}
		n.addSet(&s.net[0], netSet{sub: i, friend: -1})
		if s.kr.Phase == beacon.PhaseDistribute || s.kr.Phase == beacon.PhaseUseNew {
			n.addSet(&s.net[1], netSet{sub: i, newKey: true, friend: -1})
		}
	}
	for i := range n.friends {
		f := &n.friends[i]
		if f.state != frNone {
			n.addSet(&f.keys, netSet{sub: f.sub, friend: i})
		}
	}
	if n.lpn.state == lpnEstablished {
		n.addSet(&n.lpn.keys, netSet{sub: n.lpn.sub, friend: lpnSlot})
	}
}

func (n *Node) addSet(k *network.Keys, info netSet) {
	i := len(n.netSets)
	if i == cap(n.netSets) {
		return
	}
	n.netSets = n.netSets[:i+1]
	n.netSets[i] = *k
	n.netInfo = append(n.netInfo, info)
}

// addAccessKey appends an application or device key in place.
func (n *Node) addAccessKey(key *[16]byte, dev bool, info akInfo) {
	i := len(n.akeys)
	if i == cap(n.akeys) {
		return
	}
	n.akeys = n.akeys[:i+1]
	if dev {
		n.akeys[i] = transport.NewDevKey(*key)
	} else {
		n.akeys[i] = transport.NewAppKey(*key)
	}
	n.akInfo = append(n.akInfo, info)
}

// txKeys returns the flooding keys a subnet transmits with.
func (s *subnet) txKeys() *network.Keys {
	if s.kr.Phase == beacon.PhaseUseNew {
		return &s.net[1]
	}
	return &s.net[0]
}

func (n *Node) primarySubnet() int {
	for i := range n.subnets {
		if n.subnets[i].used {
			return i
		}
	}
	return -1
}

// isMine reports whether a is the unicast address of one of our elements.
func (n *Node) isMine(a uint16) bool {
	return n.provisioned && a >= n.addr && a < n.addr+uint16(n.nElems)
}

// accepts reports whether a message to dst is for this node.
func (n *Node) accepts(dst uint16) bool {
	if n.isMine(dst) {
		return true
	}
	switch dst {
	case access.AddrAllNodes:
		return true
	case access.AddrAllRelays:
		return n.cfgSrv.Relay == access.FeatureEnabled
	case access.AddrAllFriends:
		return n.cfgSrv.Friend == access.FeatureEnabled
	case access.AddrAllProxies:
		return false
	}
	if hs := &n.cfgSrv.HeartbeatSub; hs.PeriodLog != 0 && dst == hs.Destination && access.IsGroup(dst) {
		return true
	}
	if access.IsGroup(dst) || access.IsVirtual(dst) {
		for i := range n.cfgSrv.Models {
			for _, s := range n.cfgSrv.Models[i].Subs {
				if s == dst {
					return true
				}
			}
		}
	}
	return false
}

// nextSeq returns the next sequence number, reserving a new block in
// storage when the current one is used up.
func (n *Node) nextSeq() (uint32, error) {
	if n.seq > MaxSeq {
		return 0, ErrSeqExhausted
	}
	if n.seq >= n.seqLimit {
		lim := n.seq + n.cfg.SeqBlock
		if lim > MaxSeq+1 {
			lim = MaxSeq + 1
		}
		if err := n.store.StoreSeq(n.iv.IVIndex, lim); err != nil {
			return 0, err
		}
		n.seqLimit = lim
	}
	s := n.seq
	n.seq++
	return s, nil
}

// resetSeq starts the sequence numbers over at a new IV Index.
func (n *Node) resetSeq() {
	n.seq, n.seqLimit = 0, 0
}

// unprovision forgets the network after Config Node Reset and becomes an
// unprovisioned device again (a new PB-ADV device session, which is a
// no-op in TinyGo builds without blemesh_pbadv).
func (n *Node) unprovision(now time.Time) {
	n.provisioned = false
	for i := range n.subnets {
		n.subnets[i] = subnet{}
	}
	n.cfgSrv.NetKeys, n.cfgSrv.AppKeys = n.cfgSrv.NetKeys[:0], n.cfgSrv.AppKeys[:0]
	n.cfgSrv.Reset = false
	n.remote = n.remote[:0]
	n.resetPubHB()
	n.syncKeys()
	n.rpl.Reset()
	n.cache.Reset()
	_ = n.newDeviceSession()
	n.nextBeacon = now
}
