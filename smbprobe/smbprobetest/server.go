package smbprobetest

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Replies are the captured server messages, without NBSS framing, one per
// request type. A nil reply makes the server close the connection when it
// receives that request (Samba's SMB1-only server does so on SMB2).
type Replies struct {
	SMB2Negotiate    []byte
	SMB2SessionSetup []byte
	SMB1Negotiate    []byte
	SMB1SessionSetup []byte
	// NetBIOS is the 4-byte answer to an NBSS session request; nil means a
	// positive response (0x82).
	NetBIOS []byte
}

// Load reads the replies captured in dir (smbprobe/testdata/resp/CONFIG):
// smb2-negotiate.bin, smb2-session-setup.bin, smb1-negotiate.bin,
// smb1-session-setup.bin and nbss-session-response.bin; missing files stay nil.
func Load(dir string) (*Replies, error) {
	r := &Replies{}
	for name, dst := range map[string]*[]byte{
		"smb2-negotiate.bin":        &r.SMB2Negotiate,
		"smb2-session-setup.bin":    &r.SMB2SessionSetup,
		"smb1-negotiate.bin":        &r.SMB1Negotiate,
		"smb1-session-setup.bin":    &r.SMB1SessionSetup,
		"nbss-session-response.bin": &r.NetBIOS,
	} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		*dst = b
	}
	return r, nil
}

// Behavior selects how a Server treats a connection.
type Behavior int

// Behaviors.
const (
	Replay    Behavior = iota // answer with the captured replies
	Silent                    // accept and never send anything (tarpit, SYN proxy)
	Trickle                   // claim a 1000-byte SMB2 frame, then send one byte per TrickleInterval
	Oversize                  // claim a 16 MiB frame and send garbage behind it
	NotSMB                    // answer with an HTTP banner
	Reset                     // close as soon as a request arrives
	ResetSMB1                 // replay, but close on SMB1 requests (Windows with SMB1 off)
)

// Server answers connections with Replies according to Behavior. It is
// safe for concurrent use; each connection is served by its own goroutine.
type Server struct {
	Replies  *Replies
	Behavior Behavior
	// TrickleInterval is the delay between bytes for Trickle. Default 100 ms.
	TrickleInterval time.Duration

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// Dial returns the client end of an in-memory connection (net.Pipe) whose
// server end this Server serves. Its signature matches smbprobe.Config.Dial;
// no socket is created.
func (s *Server) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c, srv := net.Pipe()
	s.start(srv)
	return c, nil
}

// Serve accepts connections from l until l is closed. Close stops the
// connections in flight.
func (s *Server) Serve(l net.Listener) error {
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		s.start(c)
	}
}

// Close closes every open server-side connection and waits for their
// goroutines.
func (s *Server) Close() {
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) start(c net.Conn) {
	s.mu.Lock()
	if s.conns == nil {
		s.conns = map[net.Conn]struct{}{}
	}
	s.conns[c] = struct{}{}
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() {
			c.Close()
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
		s.serve(c)
	}()
}

// request kinds recognised by their first bytes.
const (
	reqUnknown = iota
	reqSMB2Negotiate
	reqSMB2SessionSetup
	reqSMB1Negotiate
	reqSMB1SessionSetup
)

func kind(msg []byte) int {
	switch {
	case len(msg) >= 14 && string(msg[:4]) == "\xfeSMB":
		switch binary.LittleEndian.Uint16(msg[12:]) { // MS-SMB2 §2.2.1.2 Command
		case 0:
			return reqSMB2Negotiate
		case 1:
			return reqSMB2SessionSetup
		}
	case len(msg) >= 5 && string(msg[:4]) == "\xffSMB":
		switch msg[4] { // MS-CIFS §2.2.3.1 Command
		case 0x72:
			return reqSMB1Negotiate
		case 0x73:
			return reqSMB1SessionSetup
		}
	}
	return reqUnknown
}

func (s *Server) serve(c net.Conn) {
	var buf []byte
	var h [4]byte
	for {
		if _, err := io.ReadFull(c, h[:]); err != nil {
			return
		}
		n := int(h[1])<<16 | int(h[2])<<8 | int(h[3])
		if n > 1<<16 {
			return
		}
		if cap(buf) < n {
			buf = make([]byte, n)
		}
		msg := buf[:n]
		if _, err := io.ReadFull(c, msg); err != nil {
			return
		}
		if h[0] == 0x81 { // NBSS SESSION REQUEST, RFC 1002 §4.3.2
			resp := s.Replies.NetBIOS
			if resp == nil {
				resp = []byte{0x82, 0, 0, 0}
			}
			if _, err := c.Write(resp); err != nil || resp[0] != 0x82 {
				return
			}
			continue
		}
		if !s.answer(c, kind(msg)) {
			return
		}
	}
}

// answer replies to one request; false ends the connection.
func (s *Server) answer(c net.Conn, k int) bool {
	switch s.Behavior {
	case Silent:
		io.Copy(io.Discard, c)
		return false
	case Reset:
		return false
	case NotSMB:
		c.Write([]byte("HTTP/1.0 400 Bad Request\r\nServer: tarpit\r\n\r\n"))
		return false
	case Oversize:
		c.Write([]byte{0, 0xff, 0xff, 0xff, 0xfe, 'S', 'M', 'B'})
		io.Copy(io.Discard, c)
		return false
	case Trickle:
		iv := s.TrickleInterval
		if iv <= 0 {
			iv = 100 * time.Millisecond
		}
		if _, err := c.Write([]byte{0, 0, 0x03, 0xe8, 0xfe}); err != nil {
			return false
		}
		for i := 0; i < 999; i++ {
			time.Sleep(iv)
			if _, err := c.Write([]byte{'S'}); err != nil {
				return false
			}
		}
		return false
	case ResetSMB1:
		if k == reqSMB1Negotiate || k == reqSMB1SessionSetup {
			return false
		}
	}
	var resp []byte
	switch k {
	case reqSMB2Negotiate:
		resp = s.Replies.SMB2Negotiate
	case reqSMB2SessionSetup:
		resp = s.Replies.SMB2SessionSetup
	case reqSMB1Negotiate:
		resp = s.Replies.SMB1Negotiate
	case reqSMB1SessionSetup:
		resp = s.Replies.SMB1SessionSetup
	}
	if resp == nil {
		return false
	}
	frame := make([]byte, 4+len(resp))
	frame[1], frame[2], frame[3] = byte(len(resp)>>16), byte(len(resp)>>8), byte(len(resp))
	copy(frame[4:], resp)
	_, err := c.Write(frame)
	return err == nil
}
