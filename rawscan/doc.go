// Package rawscan is smbsweep's stateless SYN scanner: a raw AF_PACKET
// transmitter that stamps prebuilt frames and a receiver that accepts only
// replies whose acknowledgement number matches a keyed cookie.
//
// A Scanner (New, Run) drives N sender goroutines, each walking its own
// Targets iterator, stamping probes into a batch of BatchSize frames from a
// Template (only the destination, ports, sequence number, IP ID and both
// checksums change, with no allocation) and flushing the batch through a
// TxConn, paced per batch by a live Rate. One receiver reads an RxConn,
// decodes replies in place (Reply), validates them against the AES cookie
// (Validator), re-checks the opt-out set, removes duplicates and hands each
// Result to a callback. Counters are readable at any time (Scanner.Stats).
//
// The Linux back ends are OpenTx (sendmmsg), OpenTxRing (PACKET_TX_RING)
// and OpenRx (recvmmsg with a classic BPF Filter and
// PACKET_IGNORE_OUTGOING); FindRoute reads rtnetlink and ARPs for the
// gateway itself when the neighbour table lacks it; CheckCapabilities
// checks CAP_NET_RAW. On other systems they return errors naming the OS;
// everything else, and the unprivileged tests over package rawscantest,
// works anywhere.
//
// It is not for IPv6, for anything beyond a SYN and its answer (the SMB
// prober uses the kernel's TCP), or for choosing targets: the permutation
// lives in the subpackage target and the opt-out set in package blocklist.
// It keeps no per-target state.
package rawscan
