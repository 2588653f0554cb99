//go:build linux && (amd64 || arm64)

package dnsserver

import (
	"log/slog"
	"net"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// On Linux each UDP reader is an OS thread of its own that waits for
// packets in an epoll set of its own, as NSD's and Knot's workers do,
// instead of in the Go runtime's poller. A packet wakes the reader thread
// directly, and the kernel schedules it beside whatever the control plane
// is doing (HTTP, Raft, the prober) instead of behind it: with the
// runtime's poller, a query that arrived while another goroutine held the
// only processor waited until that goroutine gave it up. The reader asks
// for a short time slice and a higher priority than the rest of the
// process (udp_sched_linux.go) so that, woken, it preempts a busy
// control-plane thread on the same CPU.
//
// Each reader also keeps a Go processor (a P) of its own while queries
// come in: it waits in epoll_wait through RawSyscall6, which the runtime
// does not see as a blocking call, so the processor is never handed to
// other goroutines and is there the moment a packet wakes the thread.
// (Through Syscall6, the runtime's monitor took it away whenever the
// control plane had work, spun every 20 µs while doing so, and a woken
// reader now and then queued for a processor behind that work.) So that
// the rest of the program keeps what it had, the process should add one
// processor per reader to GOMAXPROCS: the package leaves GOMAXPROCS to its
// caller and says how many it wants (Config.ReaderProcs). When the
// runtime needs every processor to stop (garbage collection) or preempts
// the reader, its signal interrupts epoll_wait and the reader yields (see
// readable).
//
// For that the socket must leave the runtime's poller, or every packet
// would also wake the runtime's own poller thread: the readers keep a
// duplicate of the socket and the net.UDPConn is closed (Go removes its
// descriptor from the poller when it closes it; the socket lives on in
// the duplicate).

// threadReaders are the reader threads and the socket as they hold it.
type threadReaders struct {
	fd     int // the duplicate of the socket
	stopFD int // eventfd, readable once the server stops
	// stopping is set before stopFD is written: a reader that never waits
	// (a flood of queries) still sees it between batches.
	stopping atomic.Bool
	// unboosted is set once a reader could not raise its priority.
	unboosted atomic.Bool

	mu   sync.Mutex
	tids []int // the reader threads, as they started
}

// newUDPReaders takes pc's socket over for reader threads, or, when that
// cannot be done, keeps the portable loop of udp.go on pc.
func newUDPReaders(pc net.PacketConn, log *slog.Logger) udpReaders {
	u, err := takeOver(pc)
	if err != nil {
		log.Warn("udp readers run in the Go poller", "err", err)
		return pollerReaders{}
	}
	return u
}

// readerProcs is how many Go processors n reader threads hold while
// queries come in: one each.
func readerProcs(n int) int { return n }

// readerThreads returns the thread ids of the readers started so far.
func (u *threadReaders) readerThreads() []int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.tids)
}

// start runs n reader threads on the socket taken over from pc.
func (u *threadReaders) start(s *Server, _ net.PacketConn, n int) {
	for range n {
		s.wg.Go(func() {
			if err := u.serve(s); err != nil {
				s.log.Error("udp reader stopped", "err", err)
			}
		})
	}
}

// takeOver duplicates pc's socket, makes the stop eventfd and closes pc
// (should that fail, the readers still work on the duplicate; the runtime's
// poller only keeps watching the socket for nothing).
func takeOver(pc net.PacketConn) (*threadReaders, error) {
	uc, ok := pc.(*net.UDPConn)
	if !ok {
		return nil, net.UnknownNetworkError("not a UDP socket")
	}
	rc, err := uc.SyscallConn()
	if err != nil {
		return nil, err
	}
	u := &threadReaders{fd: -1, stopFD: -1}
	var derr error
	if err := rc.Control(func(fd uintptr) {
		u.fd, derr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return nil, err
	}
	if derr != nil {
		return nil, derr
	}
	if u.stopFD, err = unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK); err != nil {
		unix.Close(u.fd)
		return nil, err
	}
	_ = uc.Close()
	return u, nil
}

// stop tells the reader threads to leave.
func (u *threadReaders) stop() {
	if u.stopFD < 0 {
		return
	}
	u.stopping.Store(true)
	one := [8]byte{1} // the eventfd counter is a native-endian uint64
	_, _ = unix.Write(u.stopFD, one[:])
}

// close releases the socket and the eventfd once no reader is left.
func (u *threadReaders) close() {
	if u.fd >= 0 {
		unix.Close(u.fd)
		u.fd = -1
	}
	if u.stopFD >= 0 {
		unix.Close(u.stopFD)
		u.stopFD = -1
	}
}

// serve is one reader: recvmmsg and sendmmsg in batches of up to
// batchSize (udp_batch_linux.go), waiting in its own epoll set when the
// socket is empty. It returns when the server stops.
func (u *threadReaders) serve(s *Server) error {
	// The thread is never unlocked: it ends with the reader, so the
	// scheduler settings made for it do not pass on to other goroutines.
	runtime.LockOSThread()
	if boosted, err := prioritizeReader(); err != nil { // udp_sched_linux.go
		s.log.Debug("udp reader keeps the default scheduling", "err", err)
	} else if !boosted && u.unboosted.CompareAndSwap(false, true) {
		s.log.Info("udp readers run at the process's own priority; with CAP_SYS_NICE or a raised RLIMIT_NICE they run above the control plane, for lower DNS latency while it is busy")
	}
	u.mu.Lock()
	u.tids = append(u.tids, unix.Gettid())
	u.mu.Unlock()
	w, err := newUDPWaiter(u.fd, u.stopFD)
	if err != nil {
		return err
	}
	defer w.close()
	fast := s.newFastCache() // replycache.go: prebuilt replies, else s.handle
	b := newUDPBatch()
	for !u.stopping.Load() {
		n, errno := b.recv(u.fd)
		if errno == unix.EAGAIN {
			if w.readable() {
				continue
			}
			return nil
		}
		if errno != 0 {
			continue
		}
		out, done := b.fill(n, fast), 0
		for b.send(u.fd, &done, out) == unix.EAGAIN {
			if !w.writable() {
				return nil
			}
		}
	}
	return nil
}

// udpWaiter is one reader thread's epoll set: the socket and the stop
// eventfd. The socket is registered with EPOLLEXCLUSIVE, so a packet wakes
// one waiting reader, not all of them.
type udpWaiter struct {
	ep, sock, stop int
	ev             [2]unix.EpollEvent
}

func newUDPWaiter(sock, stop int) (*udpWaiter, error) {
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	w := &udpWaiter{ep: ep, sock: sock, stop: stop}
	if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, sock,
		&unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLEXCLUSIVE, Fd: int32(sock)}); err != nil {
		w.close()
		return nil, err
	}
	if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, stop,
		&unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(stop)}); err != nil {
		w.close()
		return nil, err
	}
	return w, nil
}

// idleWait is how long a reader waits holding its processor before it
// treats the socket as idle and waits as a blocking call instead.
const idleWait = 5 // ms

// readable waits until the socket has a datagram (true) or the server
// stops (false).
//
// While queries keep coming, it waits through RawSyscall6 and keeps the
// thread's processor (see the top of the file). A signal interrupts that
// wait: the runtime sends one to preempt the reader, to stop the world for
// the garbage collector, or because the reader has held its processor for
// 10 ms. The thread is then in no state to be preempted (inside a raw
// system call), so it yields here, at a point where the runtime can stop
// it. After idleWait without a packet it waits as an ordinary blocking
// call, so that an idle server's readers sleep and hold nothing: the
// runtime takes the processor back and stops interrupting them.
func (w *udpWaiter) readable() bool {
	const timeout = idleWait
	for {
		r, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(w.ep), uintptr(unsafe.Pointer(&w.ev[0])), uintptr(len(w.ev)),
			uintptr(timeout), 0, 0)
		n := int(r)
		switch {
		case e == unix.EINTR:
			runtime.Gosched()
			continue
		case e != 0:
			return false
		case n == 0: // idle: wait without the processor
			var err error
			n, err = unix.EpollWait(w.ep, w.ev[:], -1)
			if err == unix.EINTR {
				continue
			}
			if err != nil {
				return false
			}
		}
		for _, e := range w.ev[:n] {
			if int(e.Fd) == w.stop {
				return false
			}
		}
		return true
	}
}

// writable waits until the socket can take a datagram (true) or the
// server stops (false): the send buffer was full.
func (w *udpWaiter) writable() bool {
	fds := []unix.PollFd{{Fd: int32(w.sock), Events: unix.POLLOUT}, {Fd: int32(w.stop), Events: unix.POLLIN}}
	for {
		_, err := unix.Poll(fds, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil || fds[1].Revents != 0 {
			return false
		}
		if fds[0].Revents != 0 {
			return true
		}
	}
}

func (w *udpWaiter) close() { unix.Close(w.ep) }
