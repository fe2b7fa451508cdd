// Package transport is the Bluetooth Mesh lower and upper transport layers
// (Mesh Protocol 1.1 §3.5-§3.6, Mesh Profile 1.0.1 §3.5-§3.6):
//
//   - [LowerPDU]: unsegmented and segmented access and control PDUs.
//   - [Segmenter], [Sender] and [Reassembler]: segmentation and reassembly (SAR) with
//     Segment Acknowledgment messages (OBO), SeqAuth and bounded memory;
//     timers are driven by explicit time arguments, never by goroutines.
//   - [ReplayList]: the replay protection list.
//   - [SealAccess] and [OpenAccess]: upper transport encryption with
//     application or device keys, including virtual addresses (Label UUID
//     as additional data).
//   - Transport control messages: [SegmentAck], [FriendPoll], [FriendUpdate],
//     [FriendRequest], [FriendOffer], [FriendClear], [FriendClearConfirm],
//     [FriendSubscriptionList], [FriendSubscriptionListConfirm], [Heartbeat].
//
// Decoders alias their input; nothing on the per-PDU path allocates.
//
//	var lp transport.LowerPDU
//	if _, err := lp.Decode(tpdu, hdr.CTL); err != nil { ... }
//	msg, ack, err := reasm.Receive(now, src, dst, ivIndex, seq, &lp)
package transport
