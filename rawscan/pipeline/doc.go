// Package pipeline is smbsweep's streaming scan: the SYN scan of package
// rawscan feeding, as SYN-ACKs arrive, the SMB prober of package smbprobe,
// with one output writer, and the operations a multi-day internet scan
// needs around it: status, metrics, checkpoints, resume, adaptive rate and
// a control endpoint.
//
// # Stages
//
//	target.Iterator 0 ─► sender 0 ─┐                         (rawscan.Scanner)
//	target.Iterator 1 ─► sender 1 ─┼─► wire ─► receiver ─► validate ─► rawscan dedup
//	        …                     ─┘                                   │
//	                          Config.Results hook (receiver goroutine) ◄┘
//	                                   │
//	                          resume dedup (Seen: hosts already in the output)
//	                                   │
//	                          bounded queue (chan Hit, Config.QueueSize) ──full──► spill file
//	                                   │  ◄───────── refiller reads the spill back ◄──┘
//	                          dispatcher ──dense /24, still sending──► held until sending ends (Config.HoldDense)
//	                                   │
//	                          SMB worker pool (up to Config.Workers × Prober.Probe, started on demand)
//	                                   │
//	                          one output writer (JSON lines or CSV, one write(2) per record)
//
// Each target iterator is wrapped so its position can be read atomically by
// the checkpointer while its sender advances it, and so a graceful stop can
// end it (the senders then finish their batch and the scanner waits its
// cooldown as after a complete scan).
//
// # Back-pressure
//
// The receiver must never block: while it does, replies pile up in the
// kernel and are dropped there, silently as far as the hosts are concerned.
// So when the prober falls behind, the pipeline spills instead of pausing
// the senders: a hit that finds the queue full is appended (24 bytes, see
// Hit.AppendBinary) to a spill file, and from then on every hit goes
// there, in arrival order, until a refiller goroutine has read the spill
// back into the queue as workers free up. The send rate is not lowered by
// the queue (use --adaptive for that, which reacts to kernel drops, or a
// lower --rate); the spill only grows, bounded by disk, and no hit is ever
// dropped. The queue depth and the spill (pending and total) are in Status
// and thus in the status line, the status file and /metrics. If the spill
// file cannot be written, the pipeline fails rather than lose hits.
//
// # Worker pool and dense subnets
//
// A dispatcher hands hits to idle workers and starts a new one when none
// is idle, up to Config.Workers, so hosts that hold a probe for its whole
// read timeout (tarpits, SYN proxies) do not delay the hosts behind them.
// While the scan is still sending, a /24 that has already produced more
// than Config.HoldDense hits, and whose share of the scan's hits is at
// least 8 times its share of the targets, has its further hits held until
// sending ends (or Config.HoldMax): a subnet in which every address
// answers is often one machine, and probing it while the scan's SYNs still
// arrive there fills its accept queue, so its kernel drops those SYNs and
// the scan loses the hosts (and each connection to the lab's AnyIP smbd is
// a fork that competes with the sender for the scan host's CPUs). A busy
// but ordinary /24, one answer in ten say, is never held: its silent hosts
// start their read timeout as their SYN-ACKs arrive rather than when
// sending ends. Status.Held counts them; a hard stop abandons them. When
// sending ends, a held subnet in which some probe got an answer (a server)
// has its held hits paced at Config.DenseProbes in flight, so the burst
// does not overflow that server's accept queue in turn; the pace doubles
// when the queue would take longer than a read timeout to drain, and is
// dropped when a paced probe times out. Subnets that never answered (SYN proxies,
// tarpits) get theirs at once: nothing there to spare, and each probe
// only waits out its own timeouts.
//
// # Checkpoints
//
// Every Config.CheckpointInterval the pipeline snapshots the iterators'
// positions and starts a new epoch; each hit carries the epoch it was
// received in. A snapshot is committed (output fsynced, then the
// checkpoint written to a temporary file, fsynced and renamed) only when
// every hit received before it has been written, so a checkpoint never
// claims a target whose result is not on disk. Resume rewinds each
// subshard by rate × cooldown (Checkpoint.Rewound) so that replies in
// flight around a crash are probed again, and skips hosts already in the
// output (LoadSeen), so the final output has each host once.
//
// # What it is not for
//
// It builds nothing from flags and opens no sockets: the caller (cmd/smbsweep
// run, or a test in a lab namespace) opens the rawscan connections and passes
// the prober's dialer, so the pipeline runs unchanged in-process or as a
// whole process inside a network namespace. It does not parse blocklists or
// choose targets (packages blocklist and rawscan/target do).
package pipeline
