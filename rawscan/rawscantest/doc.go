// Package rawscantest is an in-memory network for testing package rawscan
// without privileges: a packet connection that reads the SYN frames the
// scanner writes and answers each the way a host would (SYN-ACK when the
// port is open, RST when closed, ICMP unreachable, or nothing), plus helpers
// that build reply frames, including forged ones.
//
// It is for tests only: it models hosts, not a network path (no reordering,
// no real timing), and it does not implement ARP.
package rawscantest
