package rawscan

import (
	"fmt"
	"net/netip"

	"golang.org/x/net/bpf"
)

// filterSnap is what the filter program returns for an accepted frame: the
// whole frame (the receive buffers are rxBufSize bytes).
const filterSnap = 0xffff

// Filter returns the classic BPF program the receiver attaches to its
// socket: IPv4 frames to src that are unfragmented TCP to a port in ports
// with SYN+ACK or RST set, or ICMP destination unreachable. Everything else
// is dropped in the kernel before it is copied. Offsets are those of an
// untagged Ethernet II frame (IEEE 802.3), IPv4 (RFC 791 section 3.1), TCP
// (RFC 9293 section 3.1) and ICMP (RFC 792).
func Filter(src netip.Addr, ports PortRange) ([]bpf.RawInstruction, error) {
	if !src.Is4() || ports.Size() == 0 {
		return nil, fmt.Errorf("%w: filter for %v ports %v", ErrConfig, src, ports)
	}
	s := src.As4()
	dst := uint32(s[0])<<24 | uint32(s[1])<<16 | uint32(s[2])<<8 | uint32(s[3])
	// Jumps are relative skips; the comment on each gives its target.
	// JumpBitsSet is true when any of the bits is set, so SYN+ACK is
	// masked and compared instead.
	prog := []bpf.Instruction{
		/* 0 */ bpf.LoadAbsolute{Off: offEthType, Size: 2},
		/* 1 */ bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: etherTypeIPv4, SkipTrue: 17}, // → 19 drop
		/* 2 */ bpf.LoadAbsolute{Off: offIPDst, Size: 4},
		/* 3 */ bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: dst, SkipTrue: 15}, // → 19 drop
		/* 4 */ bpf.LoadAbsolute{Off: offIPFrag, Size: 2},
		/* 5 */ bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: 0x3fff, SkipTrue: 13}, // → 19 drop
		/* 6 */ bpf.LoadMemShift{Off: offIP}, // X = IHL*4
		/* 7 */ bpf.LoadAbsolute{Off: offIPProto, Size: 1},
		/* 8 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: protoICMP, SkipTrue: 11}, // → 20 icmp
		/* 9 */ bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: protoTCP, SkipTrue: 9}, // → 19 drop
		/* 10 */ bpf.LoadIndirect{Off: offIP + 2, Size: 2}, // TCP destination port
		/* 11 */ bpf.JumpIf{Cond: bpf.JumpLessThan, Val: uint32(ports.First), SkipTrue: 7}, // → 19 drop
		/* 12 */ bpf.JumpIf{Cond: bpf.JumpGreaterThan, Val: uint32(ports.Last), SkipTrue: 6}, // → 19 drop
		/* 13 */ bpf.LoadIndirect{Off: offIP + 13, Size: 1}, // TCP flags
		/* 14 */ bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: tcpRST, SkipTrue: 3}, // → 18 accept
		/* 15 */ bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: tcpSYN | tcpACK},
		/* 16 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: tcpSYN | tcpACK, SkipTrue: 1}, // → 18 accept
		/* 17 */ bpf.RetConstant{Val: 0},
		/* 18 */ bpf.RetConstant{Val: filterSnap},
		/* 19 */ bpf.RetConstant{Val: 0},
		/* 20 */ bpf.LoadIndirect{Off: offIP, Size: 1}, // ICMP type
		/* 21 */ bpf.JumpIf{Cond: bpf.JumpEqual, Val: icmpDestUnreach, SkipTrue: 1}, // → 23
		/* 22 */ bpf.RetConstant{Val: 0},
		/* 23 */ bpf.RetConstant{Val: filterSnap},
	}
	return bpf.Assemble(prog)
}

// A Filterer returns the BPF program of a receiver; ReplyFilter builds the
// scanner's.
type Filterer func() ([]bpf.RawInstruction, error)

// ReplyFilter returns the Filterer of Filter(src, ports).
func ReplyFilter(src netip.Addr, ports PortRange) Filterer {
	return func() ([]bpf.RawInstruction, error) { return Filter(src, ports) }
}
