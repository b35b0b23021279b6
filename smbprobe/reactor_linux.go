package smbprobe

import (
	"container/heap"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The reactor drives the connections of every port-445 probe in flight
// from one goroutine, over nonblocking sockets under one epoll(7):
//
//	Probe (caller's goroutine)          reactor goroutine (one per Prober)
//	  socket, setsockopt, connect  ──►    epoll_wait ◄─────────────────┐
//	  epoll_ctl ADD (edge-triggered)      ├─ connected: first request  │
//	  wait for done ◄─────────────┐       ├─ readable: read, dialog,   │
//	                              │       │  next request or close ────┤
//	                              └───────┴─ last conn of a probe done ┘
//
// A blocking session costs, per reply, a netpoller wake-up of its
// goroutine and often of an idle thread; here replies that arrive together
// are read in one wake-up, a probe's caller waits once, and connection B
// needs no goroutine. The reactor reads a reply in one read(2) into a
// pooled buffer (taken when the socket first becomes readable, so a
// silent host holds none), and enforces the connect, read and host
// deadlines itself, from a heap, as epoll_wait's timeout. It runs only
// while connections are open. Errors have the shape and text of those of
// net.Conn (*net.OpError), so results do not depend on the transport.

// reactor is safe for concurrent use; mu guards everything below it.
type reactor struct {
	connectTimeout time.Duration
	readTimeout    time.Duration
	silentTimeout  time.Duration
	silence        *silence // nil: no subnet is ever judged silent
	max            int
	socket         func(family int) (int, error)
	bufs           *sync.Pool // *[]byte of max+nbssHeaderLen
	epfd           int
	ep             *os.File        // epfd, in the Go netpoller: the loop waits there, not in epoll_wait
	rc             syscall.RawConn // of ep

	mu       sync.Mutex
	conns    map[int32]*rconn // by file descriptor
	timers   connHeap
	gen      uint32    // tags epoll events, so a reused fd's stale event is ignored
	running  bool      // the loop goroutine is running
	sleeping bool      // the loop waits for events or until wakeAt
	wakeAt   time.Time // ep's read deadline while the loop sleeps
}

// newReactor returns p's reactor, or nil (blocking sessions only) if epoll
// cannot be had. Its epoll descriptor is closed when p is garbage.
//
// The loop does not block in epoll_wait(2): a goroutine in a long system
// call keeps the runtime's sysmon thread polling every 20 µs or so
// (runtime.retake hands its P off after 10 ms and sysmon's idle backoff
// starts over). Instead the epoll descriptor itself sits in the Go
// netpoller (an epoll descriptor is pollable: epoll(7)), the loop parks
// until it is readable or its deadline passes, and then collects the
// events with a zero timeout.
func newReactor(p *Prober) *reactor {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil
	}
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(epfd)
		return nil
	}
	ep := os.NewFile(uintptr(epfd), "smbprobe-epoll")
	rc, err := ep.SyscallConn()
	if err != nil || ep.SetReadDeadline(time.Time{}) != nil {
		ep.Close()
		return nil // not in the netpoller
	}
	c := &p.cfg
	n := c.MaxMessageSize + nbssHeaderLen
	r := &reactor{
		connectTimeout: c.ConnectTimeout,
		readTimeout:    c.ReadTimeout,
		silentTimeout:  c.SilentTimeout,
		silence:        p.silence,
		max:            c.MaxMessageSize,
		socket:         c.Socket,
		bufs:           &sync.Pool{New: func() any { b := make([]byte, n); return &b }},
		epfd:           epfd,
		ep:             ep,
		rc:             rc,
		conns:          make(map[int32]*rconn),
	}
	runtime.AddCleanup(p, func(ep *os.File) { ep.Close() }, ep)
	return r
}

// Connection states.
const (
	connecting = iota // SYN sent
	sending           // a request is partly written
	receiving         // waiting for a reply frame
)

// rconn is one probe connection on the reactor. Only the reactor
// goroutine touches it once it is registered, under reactor.mu.
type rconn struct {
	fd       int
	gen      uint32
	raddr    netip.AddrPort
	subnet   netip.Prefix
	pr       *rprobe
	d        dialog
	state    int
	events   uint32 // registered with epoll
	wbuf     []byte // the request being written, framed
	woff     int
	buf      *[]byte // receive buffer; buf[:have] is unread data
	have     int
	lastFull bool      // the last read filled the space it was given
	drip     trickle   // the frame at the front of buf (trickle.go)
	heard    bool      // a byte arrived
	waitFrom time.Time // when the first request was written, once connected
	hostDL   time.Time // the host's deadline
	deadline time.Time // the current step's deadline
	idx      int       // index in reactor.timers, -1 when closed
}

// rprobe is one probe: its dialogs, how many connections are open, and
// where its end is signaled (done for Probe, out for Run).
type rprobe struct {
	ctx   context.Context
	a     *smb2Dialog
	b     *smb1Dialog
	aErr  error
	conns [2]*rconn
	left  int
	done  chan struct{}
	out   chan<- finished
	pd    *pending // sent on out
}

// probe runs a (connection A) and, if not nil, b (connection B) on the
// reactor, both at once, and returns a's error once both are done.
func (r *reactor) probe(ctx context.Context, target netip.AddrPort, deadline time.Time, a *smb2Dialog, b *smb1Dialog) error {
	pr := &rprobe{ctx: ctx, a: a, b: b, done: make(chan struct{}, 1)}
	r.begin(pr, target, deadline)
	select {
	case <-pr.done:
	case <-ctx.Done():
		// As a blocking session's context watcher does: every pending
		// step times out now.
		r.expire(pr)
		<-pr.done
	}
	return pr.aErr
}

// start runs pd's connections on the reactor, as probe does, and returns
// at once; when both are done the loop sends finished{pd, err: connection
// A's error} on out. out must have room for every probe started on it and
// not yet received (the loop sends holding the reactor's lock); Run's
// done channel has a slot per worker.
func (r *reactor) start(pd *pending, out chan<- finished) {
	pr := &rprobe{ctx: pd.ctx, a: pd.a, b: pd.b, out: out, pd: pd}
	r.begin(pr, pd.target, pd.deadline)
}

// begin opens pr's connections.
func (r *reactor) begin(pr *rprobe, target netip.AddrPort, deadline time.Time) {
	if dl, ok := pr.ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	pr.left = 1
	if pr.b != nil {
		pr.left = 2
	}
	pr.a.stage = stageConnect
	r.open(pr, 0, target, deadline, pr.a)
	if pr.b != nil {
		r.open(pr, 1, target, deadline, pr.b)
	}
}

// expireAll makes every open connection of the probes started on out
// time out at once, as probe does for its own when its ctx is done.
func (r *reactor) expireAll(out chan<- finished) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	for _, c := range r.conns {
		if c.pr.out == out {
			r.setDeadline(c, now)
		}
	}
	r.wakeBy(now)
}

// open connects a new socket to target, sends the first request at once
// if the handshake is already done (on a veth or loopback path the SYN-ACK
// is processed before connect(2) returns, saving a wake-up), and hands the
// connection to the loop, which it starts if it is not running.
func (r *reactor) open(pr *rprobe, i int, target netip.AddrPort, hostDL time.Time, d dialog) {
	c := &rconn{raddr: target, subnet: Subnet(target.Addr()), pr: pr, d: d, hostDL: hostDL, idx: -1}
	pr.conns[i] = c
	msg, err := d.first()
	if err != nil {
		if a, ok := d.(*smb2Dialog); ok {
			a.stage = stageNegotiate
		}
		r.mu.Lock()
		r.settle(c, err)
		r.mu.Unlock()
		return
	}
	c.wbuf = appendFrame(c.wbuf[:0], len(msg))
	c.wbuf = append(c.wbuf, msg...)
	fd, err := r.connect(target)
	if err == nil {
		c.fd = fd
		err = r.sendEarly(c)
	}
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		if fd >= 0 {
			rawClose(fd)
		}
		r.settle(c, err)
		return
	}
	r.gen++
	c.gen = r.gen
	c.events = unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLET
	if c.state != receiving {
		c.events |= unix.EPOLLOUT
	}
	ev := unix.EpollEvent{Events: c.events, Fd: int32(fd), Pad: int32(c.gen)}
	if err := rawEpollCtl(r.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		rawClose(fd)
		r.settle(c, r.dialError(c, os.NewSyscallError("epoll_ctl", err)))
		return
	}
	r.conns[int32(fd)] = c
	if c.state == connecting {
		c.deadline = minTime(hostDL, now.Add(r.connectTimeout))
	} else {
		c.deadline = r.firstWait(c, now)
	}
	heap.Push(&r.timers, c)
	if !r.running {
		r.running = true
		go r.loop()
	} else {
		r.wakeBy(c.deadline)
	}
}

// sendEarly tries to write c's first request right after connect. It
// leaves c connecting if the handshake is still going on, and returns
// the connection's error if it already failed (a refusal).
func (r *reactor) sendEarly(c *rconn) error {
	n, err := rawSend(c.fd, c.wbuf)
	switch {
	case err == unix.EAGAIN || err == unix.EINTR:
		return nil // SYN_SENT (tcp_sendmsg, sk_stream_wait_connect)
	case err != nil:
		return r.dialError(c, os.NewSyscallError("connect", err))
	}
	r.established(c)
	c.woff = n
	c.state = sending
	if n == len(c.wbuf) {
		c.state = receiving
	}
	return nil
}

// established runs once c's handshake is done: delayed ACKs again (the
// kernel left that mode at the SYN-ACK; sockopt_linux.go), and connection
// A's stage moves on.
func (r *reactor) established(c *rconn) {
	rawSetsockoptInt(c.fd, unix.IPPROTO_TCP, unix.TCP_QUICKACK, 0)
	if a, ok := c.d.(*smb2Dialog); ok {
		a.stage = stageNegotiate
	}
}

// connect opens a nonblocking socket with the probe options and starts
// the TCP handshake. Errors are the ones net.Dialer would return.
func (r *reactor) connect(target netip.AddrPort) (int, error) {
	raddr := net.TCPAddrFromAddrPort(target)
	var fd int
	var err error
	if r.socket != nil {
		fd, err = openSocket(r.socket, target.Addr())
	} else {
		fd, err = rawSocket(family(target.Addr()))
	}
	if err != nil {
		return -1, &net.OpError{Op: "dial", Net: "tcp", Addr: raddr, Err: err}
	}
	if err := rawProbeSockopts(fd); err != nil {
		rawClose(fd)
		return -1, &net.OpError{Op: "dial", Net: "tcp", Addr: raddr, Err: err}
	}
	if err := rawConnect(fd, target); err != nil && err != unix.EINPROGRESS && err != unix.EINTR {
		rawClose(fd)
		return -1, &net.OpError{Op: "dial", Net: "tcp", Addr: raddr, Err: os.NewSyscallError("connect", err)}
	}
	return fd, nil
}

// openSocket returns an unconnected nonblocking TCP socket for addr's
// family, from sock if it is not nil.
func openSocket(sock func(int) (int, error), addr netip.Addr) (int, error) {
	if sock != nil {
		return sock(family(addr))
	}
	family := family(addr)
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	return fd, nil
}

// family is addr's address family for socket(2).
func family(addr netip.Addr) int {
	if addr.Is4() {
		return unix.AF_INET
	}
	return unix.AF_INET6
}

func sockaddr(ap netip.AddrPort) unix.Sockaddr {
	if ap.Addr().Is4() {
		return &unix.SockaddrInet4{Addr: ap.Addr().As4(), Port: int(ap.Port())}
	}
	return &unix.SockaddrInet6{Addr: ap.Addr().As16(), Port: int(ap.Port())}
}

// expire makes every open connection of pr time out at once.
func (r *reactor) expire(pr *rprobe) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	for _, c := range pr.conns {
		if c != nil && c.idx >= 0 {
			r.setDeadline(c, now)
		}
	}
	r.wakeBy(now)
}

// wakeBy makes a sleeping loop wake by t. r.mu must be held.
func (r *reactor) wakeBy(t time.Time) {
	if r.sleeping && t.Before(r.wakeAt) {
		r.wakeAt = t
		r.ep.SetReadDeadline(t)
	}
}

// loop is the reactor goroutine: it sleeps until an event or the earliest
// deadline, and returns when no connection is open.
func (r *reactor) loop() {
	var events [128]unix.EpollEvent
	for {
		r.mu.Lock()
		now := time.Now()
		for len(r.timers) > 0 && !r.timers[0].deadline.After(now) {
			c := r.timers[0]
			r.end(c, r.timeoutError(c))
		}
		if len(r.timers) == 0 {
			r.running = false
			r.mu.Unlock()
			return
		}
		// Set under mu, so that open and expire, also under mu, can only
		// move it earlier (wakeBy).
		r.wakeAt = r.timers[0].deadline
		r.ep.SetReadDeadline(r.wakeAt)
		r.sleeping = true
		r.mu.Unlock()

		n := 0
		err := r.rc.Read(func(fd uintptr) bool {
			var err error
			n, err = rawEpollPoll(int(fd), events[:])
			if err != nil && err != unix.EINTR {
				// Only a bad descriptor or buffer: a bug.
				panic(os.NewSyscallError("epoll_wait", err))
			}
			return n > 0
		})
		if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			panic(err) // ep is never closed while the loop runs
		}
		r.mu.Lock()
		r.sleeping = false
		for _, ev := range events[:n] {
			if c := r.conns[ev.Fd]; c != nil && c.gen == uint32(ev.Pad) {
				r.handle(c, ev.Events)
			}
		}
		r.mu.Unlock()
	}
}

// handle advances c on an epoll event.
func (r *reactor) handle(c *rconn, ev uint32) {
	switch c.state {
	case connecting:
		if ev&(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) == 0 {
			return
		}
		soerr, err := rawGetsockoptInt(c.fd, unix.SOL_SOCKET, unix.SO_ERROR)
		switch {
		case err != nil:
			r.end(c, r.dialError(c, os.NewSyscallError("getsockopt", err)))
			return
		case soerr != 0:
			r.end(c, r.dialError(c, os.NewSyscallError("connect", syscall.Errno(soerr))))
			return
		case ev&unix.EPOLLOUT == 0:
			return
		}
		r.established(c)
		c.state = sending
		r.setDeadline(c, r.firstWait(c, time.Now()))
		r.flush(c)
	case sending:
		if ev&(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) != 0 {
			r.flush(c)
		}
	case receiving:
		if ev&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLERR|unix.EPOLLHUP) != 0 {
			r.receive(c)
		}
	}
}

// send frames msg and writes it; the step's deadline covers the write and
// the reply, as a session's does.
func (r *reactor) send(c *rconn, msg []byte) {
	c.wbuf = appendFrame(c.wbuf[:0], len(msg))
	c.wbuf = append(c.wbuf, msg...)
	c.woff = 0
	c.state = sending
	r.setDeadline(c, minTime(c.hostDL, time.Now().Add(r.readTimeout)))
	r.flush(c)
}

// flush writes the rest of the request; the connection then waits for the
// reply, or for EPOLLOUT if the socket buffer is full.
func (r *reactor) flush(c *rconn) {
	for c.woff < len(c.wbuf) {
		// MSG_NOSIGNAL: a peer's RST is an EPIPE error, not a SIGPIPE.
		n, err := rawSend(c.fd, c.wbuf[c.woff:])
		switch {
		case err == unix.EAGAIN:
			if c.events&unix.EPOLLOUT == 0 {
				c.events |= unix.EPOLLOUT
				ev := unix.EpollEvent{Events: c.events, Fd: int32(c.fd), Pad: int32(c.gen)}
				if err := rawEpollCtl(r.epfd, unix.EPOLL_CTL_MOD, c.fd, &ev); err != nil {
					r.end(c, os.NewSyscallError("epoll_ctl", err))
				}
			}
			return
		case err == unix.EINTR:
			continue
		case err != nil:
			r.end(c, r.ioError(c, "write", os.NewSyscallError("write", err)))
			return
		}
		c.woff += n
	}
	c.state = receiving
}

// receive reads what has arrived and hands each complete frame to the
// dialog. With edge-triggered epoll it must leave the socket drained or a
// new request in flight: after a short read, any later data raises a new
// event (epoll(7)).
func (r *reactor) receive(c *rconn) {
	for {
		for c.have >= nbssHeaderLen {
			b := *c.buf
			n, keepalive, err := checkFrameHeader([nbssHeaderLen]byte(b), r.max)
			if err != nil {
				r.end(c, err)
				return
			}
			if keepalive {
				c.consume(nbssHeaderLen)
				continue
			}
			if c.have < nbssHeaderLen+n {
				break
			}
			next, err := c.d.reply(b[nbssHeaderLen : nbssHeaderLen+n])
			c.consume(nbssHeaderLen + n)
			switch {
			case err != nil:
				r.end(c, err)
				return
			case next == nil:
				r.end(c, nil)
				return
			}
			r.send(c, next)
			if c.state != receiving {
				return // waiting for EPOLLOUT
			}
			if c.have == 0 && !c.lastFull {
				return // drained; the reply will raise an event
			}
		}
		if c.buf == nil {
			c.buf = r.bufs.Get().(*[]byte)
		}
		space := (*c.buf)[c.have:]
		n, err := rawRead(c.fd, space)
		switch {
		case err == unix.EAGAIN:
			return
		case err == unix.EINTR:
			continue
		case err != nil:
			r.end(c, r.ioError(c, "read", os.NewSyscallError("read", err)))
			return
		case n == 0:
			// io.ReadFull's errors: EOF only at a frame boundary.
			err := io.EOF
			if c.have > 0 {
				err = io.ErrUnexpectedEOF
			}
			r.end(c, err)
			return
		}
		c.have += n
		c.heard = true
		c.lastFull = n == len(space)
		if now := time.Now(); c.drip.read(n, now, c.need, c.deadline) {
			// A trickle that cannot make the deadline: time it out now.
			r.setDeadline(c, now)
			return
		}
		if !c.lastFull && c.have < nbssHeaderLen {
			return
		}
	}
}

// consume drops the first n unread bytes: a frame, whose successor's
// arrival starts with what is left.
func (c *rconn) consume(n int) {
	copy(*c.buf, (*c.buf)[n:c.have])
	c.have -= n
	c.drip.start(c.have, time.Now())
}

// need is how many bytes the frame at the front of the buffer lacks, got
// of them being at hand.
func (c *rconn) need(got int) int { return frameNeed((*c.buf)[:c.have], got) }

func (r *reactor) setDeadline(c *rconn, t time.Time) {
	c.deadline = t
	heap.Fix(&r.timers, c.idx)
}

// firstWait starts c's wait for its first reply at now and returns its
// deadline: ReadTimeout, or SilentTimeout in a subnet judged silent.
func (r *reactor) firstWait(c *rconn, now time.Time) time.Time {
	c.waitFrom = now
	if r.silence != nil && r.silence.judged(c.subnet) {
		r.markCut(c)
		return minTime(c.hostDL, now.Add(r.silentTimeout))
	}
	return minTime(c.hostDL, now.Add(r.readTimeout))
}

// markCut notes that c's first reply was given SilentTimeout.
func (r *reactor) markCut(c *rconn) {
	if a, ok := c.d.(*smb2Dialog); ok {
		a.cut = true
	}
}

// cutShort gives every connection of subnet n still awaiting its first
// reply SilentTimeout since its request was written, or until now if that
// has passed (silence.go). locked: the caller holds r.mu.
func (r *reactor) cutShort(n netip.Prefix, now time.Time, locked bool) {
	if !locked {
		r.mu.Lock()
		defer r.mu.Unlock()
	}
	for _, c := range r.conns {
		if c.subnet != n || c.state == connecting || c.heard {
			continue
		}
		if t := minTime(c.hostDL, silentSince(c.waitFrom, now, r.silentTimeout)); t.Before(c.deadline) {
			r.markCut(c)
			r.setDeadline(c, t)
			r.wakeBy(t)
		}
	}
}

// judge tells the silence tracker how connection A of a probe ended once
// connected, and cuts the subnet short when that judges it silent. r.mu
// is held.
func (r *reactor) judge(c *rconn, err error) {
	silent := !c.heard && err != nil && isTimeout(err) && c.pr.ctx.Err() != context.Canceled
	judgeSilence(r.silence, r, c.subnet, silent, true)
}

// end closes c (with a RST: SO_LINGER 0) and records err: nil when the
// dialog is complete, the step's error otherwise.
func (r *reactor) end(c *rconn, err error) {
	heap.Remove(&r.timers, c.idx)
	delete(r.conns, int32(c.fd))
	rawClose(c.fd)
	if c.buf != nil {
		r.bufs.Put(c.buf)
		c.buf = nil
	}
	if r.silence != nil && c.state != connecting && c.d == dialog(c.pr.a) {
		r.judge(c, err)
	}
	r.settle(c, err)
}

// settle records how c ended and signals its probe after the last one.
func (r *reactor) settle(c *rconn, err error) {
	pr := c.pr
	if err != nil {
		if c.d == dialog(pr.a) {
			pr.aErr = err
		} else {
			pr.b.fail(pr.ctx, err, c.state == connecting, false)
		}
	}
	if pr.left--; pr.left > 0 {
		return
	}
	if pr.out != nil {
		pr.out <- finished{pd: pr.pd, err: pr.aErr}
	} else {
		pr.done <- struct{}{}
	}
}

// timeoutError is the error of a step whose deadline passed.
func (r *reactor) timeoutError(c *rconn) error {
	switch c.state {
	case connecting:
		return r.dialError(c, os.ErrDeadlineExceeded)
	case sending:
		return r.ioError(c, "write", os.ErrDeadlineExceeded)
	}
	return r.ioError(c, "read", os.ErrDeadlineExceeded)
}

func (r *reactor) dialError(c *rconn, err error) error {
	return &net.OpError{Op: "dial", Net: "tcp", Addr: net.TCPAddrFromAddrPort(c.raddr), Err: err}
}

// ioError is err as net.Conn's Read or Write would return it.
func (r *reactor) ioError(c *rconn, op string, err error) error {
	var laddr net.Addr
	if sa, e := unix.Getsockname(c.fd); e == nil {
		switch sa := sa.(type) {
		case *unix.SockaddrInet4:
			laddr = &net.TCPAddr{IP: sa.Addr[:], Port: sa.Port}
		case *unix.SockaddrInet6:
			laddr = &net.TCPAddr{IP: sa.Addr[:], Port: sa.Port}
		}
	}
	return &net.OpError{Op: op, Net: "tcp", Source: laddr, Addr: net.TCPAddrFromAddrPort(c.raddr), Err: err}
}

// connHeap orders open connections by deadline (container/heap).
type connHeap []*rconn

func (h connHeap) Len() int           { return len(h) }
func (h connHeap) Less(i, j int) bool { return h[i].deadline.Before(h[j].deadline) }
func (h connHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx, h[j].idx = i, j
}
func (h *connHeap) Push(x any) {
	c := x.(*rconn)
	c.idx = len(*h)
	*h = append(*h, c)
}
func (h *connHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	c.idx = -1
	return c
}

// socketDial returns a Config.Dial that opens its sockets with sock (see
// Config.Socket), sets the probe options and connects through the Go
// netpoller, honouring ctx: the blocking sessions' dialer when only
// Config.Socket is given.
func socketDial(sock func(int) (int, error)) func(ctx context.Context, network, address string) (net.Conn, error) {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return nil, &net.OpError{Op: "dial", Net: network, Err: err}
		}
		ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		raddr := net.TCPAddrFromAddrPort(ap)
		fd, err := openSocket(sock, ap.Addr())
		if err == nil {
			if err = setProbeSockopts(fd); err != nil {
				unix.Close(fd)
			}
		}
		if err != nil {
			return nil, &net.OpError{Op: "dial", Net: network, Addr: raddr, Err: err}
		}
		if err := unix.Connect(fd, sockaddr(ap)); err != nil && err != unix.EINPROGRESS && err != unix.EINTR {
			unix.Close(fd)
			return nil, &net.OpError{Op: "dial", Net: network, Addr: raddr, Err: os.NewSyscallError("connect", err)}
		}
		f := os.NewFile(uintptr(fd), "smbprobe-tcp")
		defer f.Close() // net.FileConn holds a duplicate
		if dl, ok := ctx.Deadline(); ok {
			f.SetWriteDeadline(dl)
		}
		stop := context.AfterFunc(ctx, func() { f.SetWriteDeadline(time.Unix(1, 0)) })
		defer stop()
		rc, err := f.SyscallConn()
		if err != nil {
			return nil, &net.OpError{Op: "dial", Net: network, Addr: raddr, Err: err}
		}
		var cerr error
		err = rc.Write(func(fd uintptr) bool {
			v, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR)
			switch {
			case err != nil:
				cerr = os.NewSyscallError("getsockopt", err)
			case v != 0:
				cerr = os.NewSyscallError("connect", syscall.Errno(v))
			default:
				// The poller can wake us early: connected only with a peer.
				if _, err := unix.Getpeername(int(fd)); err != nil {
					return false
				}
			}
			return true
		})
		if err == nil {
			err = cerr
		}
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() != nil {
				err = ctx.Err()
			}
			return nil, &net.OpError{Op: "dial", Net: network, Addr: raddr, Err: err}
		}
		return net.FileConn(f)
	}
}
