package lab

import (
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"os"
	"slices"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Outside reads an Ethernet pcap file (as written by a Capture) and
// returns, sorted and without repeats, every IPv4 destination that is in
// none of the allowed prefixes. Frames that are not IPv4 (ARP, IPv6) are
// counted in other; IPv6 frames are reported by their absence from the
// allowed set only if allowed holds IPv6 prefixes, so a lab that allows
// none treats every IPv6 frame as outside: it is returned as the zero
// netip.Addr once.
func Outside(pcapPath string, allowed []netip.Prefix) (outside []netip.Addr, frames, other int, err error) {
	err = ReadCapture(pcapPath, func(data []byte, _ gopacket.CaptureInfo) error {
		frames++
		dst, ok := frameDst(data)
		if !ok {
			other++
			return nil
		}
		if !inAny(allowed, dst) {
			outside = append(outside, dst)
		}
		return nil
	})
	if err != nil {
		return nil, frames, other, err
	}
	slices.SortFunc(outside, netip.Addr.Compare)
	return slices.Compact(outside), frames, other, nil
}

// ReadCapture calls fn for every frame of an Ethernet pcap file (as written
// by a Capture), in order, and stops at the end of the file or at the first
// error, its own or fn's. The frame is only valid during the call.
func ReadCapture(pcapPath string, fn func(frame []byte, ci gopacket.CaptureInfo) error) error {
	f, err := os.Open(pcapPath)
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		return err
	}
	if r.LinkType() != layers.LinkTypeEthernet {
		return errors.New("lab: capture is not Ethernet")
	}
	for {
		data, ci, err := r.ZeroCopyReadPacketData()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(data, ci); err != nil {
			return err
		}
	}
}

// frameDst returns the destination of an IPv4 or IPv6 Ethernet frame
// (IEEE 802.3 header, 14 bytes; one 802.1Q tag is skipped). IPv4's
// destination is at offset 16 of its header (RFC 791 §3.1), IPv6's at 24
// (RFC 8200 §3).
func frameDst(b []byte) (netip.Addr, bool) {
	if len(b) < 14 {
		return netip.Addr{}, false
	}
	et, off := binary.BigEndian.Uint16(b[12:]), 14
	if et == 0x8100 && len(b) >= 18 {
		et, off = binary.BigEndian.Uint16(b[16:]), 18
	}
	switch et {
	case 0x0800:
		if len(b) >= off+20 {
			return netip.AddrFrom4([4]byte(b[off+16 : off+20])), true
		}
	case 0x86dd:
		if len(b) >= off+40 {
			return netip.AddrFrom16([16]byte(b[off+24 : off+40])), true
		}
	}
	return netip.Addr{}, false
}
