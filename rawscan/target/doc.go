// Package target is smbsweep's target permutation: the order in which a scan
// visits every (address, port) pair of its allowed set, exactly once, spread
// across machines and sender threads.
//
// It is ZMap's cyclic group (zmap src/cyclic.c, src/shard.c), tightened. The
// N = addresses × ports targets are numbered 0…N−1; the permutation walks
// the multiplicative group of integers modulo p, the smallest prime above N,
// from a random start by repeated multiplication with a primitive root g.
// Element v stands for target v−1, and the few elements above N are skipped.
// The seed fixes g and the start, so the same seed and the same allowed set
// give the same order on every machine, while the sequence itself looks
// random: consecutive targets are far apart, which spreads load over
// networks.
//
// # Shards and threads
//
// A scan split over Shards machines with Threads sender threads each has
// S = Shards·Threads subshards; subshard k = Shard·Threads + thread walks
// the k-th of S consecutive, disjoint ranges of the group's exponents. The
// union over every machine and thread is the allowed set × ports, each pair
// once. MaxTargets is divided among all S subshards.
//
// # Hot path
//
// Each target costs one modular multiplication by Shoup's method (a
// multiply-high, a multiply and a subtraction; no divide instruction) and
// one index→address lookup: two loads from a table built once per
// Permutation (a bucket's range number, then the range's delta); with
// several ports, a Barrett division splits the target index into address
// and port. Nothing allocates. Iterator.FillAddrs is the fast path for
// senders: a batch of host-order addresses per call, the walk and the
// lookups in one loop (about 45 instructions per target on amd64).
// Iterator.Fill does the same into netip.AddrPort values, Iterator.Next
// one target per call; the three yield the same sequence. Each sender
// thread owns its Iterator; an Iterator is not safe for concurrent use, a
// Permutation is.
//
// # What it is not for
//
// It does not decide what is allowed: the caller builds the allowed set
// (targets ∩ allowlist − reserved − opt-outs) with package blocklist. Opt-out
// lists that are reloaded during a scan are a filter the caller applies to
// each target at send time, not part of the permutation, so a reload never
// changes the order, the shards or a checkpoint. It sends nothing and needs
// no privileges.
package target
