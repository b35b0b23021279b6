package rawscan

// BatchSize is the number of frames a sender stamps and flushes with one
// sendmmsg call, and the number of frames the receiver reads per call.
// ZMap uses 64 (src/state.c), wireguard-go 128 (conn.IdealBatchSize); 128
// measured faster here (bench/results/rawscan.md).
const BatchSize = 128

// A TxConn sends Ethernet frames. Each sender goroutine owns one; a TxConn
// need not be safe for concurrent use.
type TxConn interface {
	// WriteBatch sends frames and returns how many were sent. It blocks
	// (in the kernel on the caller's thread for the AF_PACKET back ends,
	// never spinning) while the kernel's queue is full.
	WriteBatch(frames [][]byte) (int, error)
	// Close releases the connection.
	Close() error
}

// An RxConn receives Ethernet frames. The receiver goroutine owns it; Close
// may be called from another goroutine to unblock ReadBatch.
type RxConn interface {
	// ReadBatch blocks until at least one frame arrives, then fills up to
	// len(bufs) buffers, recording each frame's length in sizes. It
	// returns the number of frames read.
	ReadBatch(bufs [][]byte, sizes []int) (int, error)
	// Drops returns the number of frames the kernel dropped because the
	// receive queue was full, since the connection was opened.
	Drops() (uint64, error)
	// Close releases the connection and makes a blocked ReadBatch return.
	Close() error
}
