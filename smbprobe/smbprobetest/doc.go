// Package smbprobetest provides SMB servers for tests and benchmarks that
// replay captured replies: an in-memory Dial for unprivileged tests of the
// whole prober, and Serve for a real listener (the lab's fast responder).
//
// A Server answers by request type only (SMB2 NEGOTIATE, SMB2
// SESSION_SETUP, SMB1 NEGOTIATE, SMB1 SESSION_SETUP_ANDX, NetBIOS session
// request) with fixed bytes; it keeps no protocol state and verifies
// nothing. It also plays hostile hosts (silent, trickling, lying about
// lengths, not SMB). It is not an SMB server and not for production use.
package smbprobetest
