package pipeline

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"time"

	"github.com/smbsweep/smbsweep/rawscan"
)

// hitLen is the size of a Hit in the spill file (AppendBinary).
const hitLen = 24

// errHitLen is returned by UnmarshalBinary for a record of the wrong size.
var errHitLen = errors.New("pipeline: spilled hit is not 24 bytes")

// A Hit is one open port found by the scan, on its way to the prober: the
// scan facts of a SYN-ACK. It is a small value, copied through the queue.
type Hit struct {
	// Target is the address and port that answered.
	Target netip.AddrPort
	// TTL, Window and MSS are from the SYN-ACK (MSS 0 if absent).
	TTL         uint8
	Window, MSS uint16
	// Flags are rawscan's doubts (FlagSuspectProxy).
	Flags rawscan.Flags
	// Time is when the receiver read the SYN-ACK, in Unix nanoseconds.
	Time int64
	// epoch is the checkpoint epoch the hit was received in.
	epoch uint32
}

// hitFrom converts a rawscan result.
func hitFrom(r *rawscan.Result, epoch uint32) Hit {
	return Hit{
		Target: netip.AddrPortFrom(r.Addr, r.Port),
		TTL:    r.TTL, Window: r.Window, MSS: r.MSS, Flags: r.Flags,
		Time:  r.Time.UnixNano(),
		epoch: epoch,
	}
}

// AppendBinary appends the hit's 24-byte spill record to b: IPv4 address
// (4), port (2), TTL (1), flags (1), window (2), MSS (2), time (8) and
// checkpoint epoch (4), all big-endian.
func (h *Hit) AppendBinary(b []byte) ([]byte, error) {
	a := h.Target.Addr().Unmap().As4()
	b = append(b, a[:]...)
	b = binary.BigEndian.AppendUint16(b, h.Target.Port())
	b = append(b, h.TTL, byte(h.Flags))
	b = binary.BigEndian.AppendUint16(b, h.Window)
	b = binary.BigEndian.AppendUint16(b, h.MSS)
	b = binary.BigEndian.AppendUint64(b, uint64(h.Time))
	b = binary.BigEndian.AppendUint32(b, h.epoch)
	return b, nil
}

// UnmarshalBinary reads a record written by AppendBinary.
func (h *Hit) UnmarshalBinary(b []byte) error {
	if len(b) != hitLen {
		return errHitLen
	}
	h.Target = netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[0:4])), binary.BigEndian.Uint16(b[4:]))
	h.TTL, h.Flags = b[6], rawscan.Flags(b[7])
	h.Window = binary.BigEndian.Uint16(b[8:])
	h.MSS = binary.BigEndian.Uint16(b[10:])
	h.Time = int64(binary.BigEndian.Uint64(b[12:]))
	h.epoch = binary.BigEndian.Uint32(b[20:])
	return nil
}

// ReceivedAt returns Time as a time.Time in UTC.
func (h *Hit) ReceivedAt() time.Time { return time.Unix(0, h.Time).UTC() }
