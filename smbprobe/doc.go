// Package smbprobe asks an SMB server, over the kernel's TCP stack and in as
// few round trips as possible, what it is: SMB1 on or off, dialect, signing,
// capabilities, GUID and time, SMB 3.1.1 negotiate contexts, and the NTLM
// challenge's names and OS version.
//
// Each host gets two parallel connections (Probe):
//
//   - A: SMB2 NEGOTIATE offering 2.0.2…3.1.1 with the PREAUTH, ENCRYPTION,
//     COMPRESSION and SIGNING contexts and a fresh random ClientGuid, then
//     one SESSION_SETUP carrying an SPNEGO-wrapped NTLM NEGOTIATE with the
//     VERSION flag; the CHALLENGE is parsed and the connection closed. No
//     AUTHENTICATE is ever sent on this path.
//   - B: SMB1 NEGOTIATE offering only "NT LM 0.12"; if the server accepts,
//     one extended-security SESSION_SETUP_ANDX for NativeOS, NativeLanMan
//     and PrimaryDomain.
//
// On port 139 both start with a NetBIOS session request to "*SMBSERVER",
// and 3.1.1 is not offered. Run is the bounded probing stage around Probe,
// with a single result writer: it launches reactor probes itself (below)
// and hands the others to workers. Config.Shares adds an opt-in guest logon and
// share listing (github.com/hirochachacha/go-smb2); it is off by default
// because it logs on to someone else's system.
//
// Every timeout is ours (Config): connect 3 s, each read 5 s, the whole
// host 10 s, and a 64 KiB cap on any length a peer claims. A receive buffer
// is taken from a pool only once a reply has arrived, so a silent host
// costs its sockets, not buffers.
//
// On Linux, port-445 probes without a caller's Config.Dial run on a
// reactor: one goroutine per Prober drives every connection in flight over
// nonblocking sockets under one epoll (Config.Socket can supply sockets
// from another network namespace). Elsewhere, and for port 139 or a
// caller's dialer, each connection is a blocking net.Conn session. Results are data,
// not errors: see Result and SCHEMA.md for the JSON output, field by field.
//
// The wire codecs are byte-level (encoding/binary after explicit length
// checks), cite their MS-SMB2, MS-SMB, MS-CIFS, MS-NLMP and RFC sections,
// and are fuzzed. Package smbprobetest replays captured Samba and impacket
// replies for tests and benchmarks.
//
// smbprobe is not an SMB client: it reads no files, holds no sessions, and
// never authenticates except in the opt-in guest follow-up. It does not
// find hosts either (that is rawscan), and it dials whatever it is given:
// the caller owns the network namespace (Config.Dial) and the blocklist.
package smbprobe
