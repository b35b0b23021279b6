package lab_test

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/smbsweep/smbsweep/lab"
	"github.com/smbsweep/smbsweep/lab/labtest"
	"golang.org/x/sys/unix"
)

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// udpFrame builds an Ethernet/IPv4/UDP frame (RFC 791, RFC 768) with a
// valid IPv4 header checksum (RFC 1071) and no UDP checksum.
func udpFrame(dstMAC, srcMAC [6]byte, src, dst netip.Addr, payload []byte) []byte {
	b := make([]byte, 14+20+8+len(payload))
	copy(b[0:], dstMAC[:])
	copy(b[6:], srcMAC[:])
	binary.BigEndian.PutUint16(b[12:], 0x0800)
	ip := b[14:34]
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], uint16(20+8+len(payload)))
	ip[8] = 64 // TTL
	ip[9] = unix.IPPROTO_UDP
	s4, d4 := src.As4(), dst.As4()
	copy(ip[12:], s4[:])
	copy(ip[16:], d4[:])
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(ip[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	binary.BigEndian.PutUint16(ip[10:], ^uint16(sum))
	udp := b[34:]
	binary.BigEndian.PutUint16(udp[0:], 40000)
	binary.BigEndian.PutUint16(udp[2:], 9) // discard
	binary.BigEndian.PutUint16(udp[4:], uint16(8+len(payload)))
	copy(udp[8:], payload)
	return b
}

func mac(t testing.TB, s string) [6]byte {
	hw, err := net.ParseMAC(s)
	if err != nil || len(hw) != 6 {
		t.Fatalf("mac %q: %v", s, err)
	}
	return [6]byte(hw)
}

// rootWatch counts frames seen on any interface of the root namespace
// whose IPv4 source or destination is one of addrs. It only listens.
func rootWatch(t *testing.T, watch []netip.Prefix) (stop func() int) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(htons(unix.ETH_P_ALL)))
	if err != nil {
		t.Fatalf("root capture: %v", err)
	}
	tv := unix.NsecToTimeval((50 * time.Millisecond).Nanoseconds())
	_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	var seen atomic.Int64
	var quit atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 65536)
		for !quit.Load() {
			n, _, err := unix.Recvfrom(fd, buf, 0)
			if err != nil || n < 34 || binary.BigEndian.Uint16(buf[12:]) != 0x0800 {
				continue
			}
			src := netip.AddrFrom4([4]byte(buf[26:30]))
			dst := netip.AddrFrom4([4]byte(buf[30:34]))
			for _, p := range watch {
				if p.Contains(src) || p.Contains(dst) {
					seen.Add(1)
				}
			}
		}
	})
	return func() int {
		quit.Store(true)
		wg.Wait()
		unix.Close(fd)
		return int(seen.Load())
	}
}

// TestIntegrationEgress sends raw frames from the scanner namespace to
// addresses inside and outside the lab, and proves with the lab's egress
// capture that they left the scanner (the capture sees them, and Outside
// names the outside ones) and with a capture in the root namespace that
// none of them, nor any lab address, ever appears there.
func TestIntegrationEgress(t *testing.T) {
	skipUnlessRoot(t)
	l := labtest.New(t, &lab.Config{Seed: 3})
	st := l.Status()
	// TEST-NET-2 and TEST-NET-3 (RFC 5737): outside the lab, and never
	// routed on the internet either, in case of a bug.
	outside := []netip.Addr{netip.MustParseAddr("198.51.100.77"), netip.MustParseAddr("203.0.113.77")}
	inside := []netip.Addr{netip.MustParseAddr("198.18.0.77"), netip.MustParseAddr("198.18.200.1")}

	watch := []netip.Prefix{lab.Benchmarking, netip.MustParsePrefix("192.0.2.0/24")}
	for _, a := range outside {
		watch = append(watch, netip.PrefixFrom(a, 32))
	}
	stopRoot := rootWatch(t, watch)

	pcap := filepath.Join(t.TempDir(), "egress.pcap")
	capt, err := l.Capture(pcap)
	if err != nil {
		t.Fatal(err)
	}
	const perDst = 20
	var sent int
	err = l.Do(func() error {
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return os.NewSyscallError("socket", err)
		}
		defer unix.Close(fd)
		// Looked up here, on the namespace's thread (netlink).
		ifi, err := net.InterfaceByName(st.Interface)
		if err != nil {
			return err
		}
		sa := &unix.SockaddrLinklayer{Ifindex: ifi.Index, Halen: 6}
		for _, dst := range append(append([]netip.Addr{}, inside...), outside...) {
			f := udpFrame(mac(t, st.GatewayMAC), mac(t, st.SourceMAC), st.SourceIP, dst, []byte("smbsweep lab egress test"))
			for range perDst {
				if err := unix.Sendto(fd, f, 0, sa); err != nil {
					return os.NewSyscallError("sendto", err)
				}
				sent++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	frames, err := capt.Stop()
	if err != nil {
		t.Fatal(err)
	}
	leaked := stopRoot()

	got, total, _, err := lab.Outside(pcap, st.Ranges)
	if err != nil {
		t.Fatal(err)
	}
	if frames < sent || total != frames {
		t.Errorf("capture recorded %d frames (file %d), sent %d", frames, total, sent)
	}
	if diff := cmp.Diff(outside, got, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
		t.Errorf("Outside (-want +got):\n%s", diff)
	}
	if leaked != 0 {
		t.Errorf("root namespace saw %d frames to or from lab or outside-test addresses, want 0", leaked)
	}
}

// sendFrames sends n UDP frames to 198.18.0.1 out of dev in the scanner
// namespace through an AF_PACKET socket.
func sendFrames(t *testing.T, l *lab.Lab, dev string, n int) {
	t.Helper()
	sendBurst(t, l, dev, n, 4)
}

// sendBurst sends n UDP frames with size bytes of payload as fast as
// possible without blocking; frames the qdisc or the socket buffer refuse
// (ENOBUFS, EAGAIN) are dropped.
func sendBurst(t *testing.T, l *lab.Lab, dev string, n, size int) {
	t.Helper()
	sendBurstB(t, l, dev, n, size)
}

// sendBurstB is sendBurst for tests and benchmarks.
func sendBurstB(t testing.TB, l *lab.Lab, dev string, n, size int) {
	t.Helper()
	st := l.Status()
	f := udpFrame(mac(t, st.GatewayMAC), mac(t, st.SourceMAC), st.SourceIP, netip.MustParseAddr("198.18.0.1"), make([]byte, size))
	err := l.Do(func() error {
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return os.NewSyscallError("socket", err)
		}
		defer unix.Close(fd)
		ifi, err := net.InterfaceByName(dev)
		if err != nil {
			return err
		}
		sa := &unix.SockaddrLinklayer{Ifindex: ifi.Index, Halen: 6}
		for range n {
			if err := unix.Sendto(fd, f, unix.MSG_DONTWAIT, sa); err != nil && !errors.Is(err, unix.ENOBUFS) && !errors.Is(err, unix.EAGAIN) {
				return os.NewSyscallError("sendto", err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
