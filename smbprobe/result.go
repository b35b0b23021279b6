package smbprobe

import (
	"fmt"
	"net/netip"
	"time"
)

// Status is the outcome of probing one host, a lowercase string in the
// JSON output (zgrab2's status vocabulary, see SCHEMA.md).
type Status string

// Statuses. Anything but StatusSuccess comes with Result.Error.
const (
	StatusSuccess           Status = "success"            // SMB answered (SMB2, or SMB1 only)
	StatusConnectionRefused Status = "connection-refused" // RST to our SYN
	StatusConnectionTimeout Status = "connection-timeout" // no handshake within Config.ConnectTimeout
	StatusConnectionClosed  Status = "connection-closed"  // EOF or RST before any SMB reply
	StatusIOTimeout         Status = "io-timeout"         // silence past Config.ReadTimeout or Config.HostTimeout
	StatusNotSMB            Status = "not-smb"            // bytes that are not NBSS-framed SMB
	StatusProtocolError     Status = "protocol-error"     // SMB, but malformed, oversized or an error status
	StatusNetBIOSRefused    Status = "netbios-refused"    // port 139: negative or retarget session response
	StatusUnreachable       Status = "unreachable"        // ICMP unreachable / no route
	StatusCanceled          Status = "canceled"           // the caller's context was canceled
	StatusUnknownError      Status = "unknown-error"      // anything else
)

// Result is what the prober learned about one host. Fields are documented
// one by one in SCHEMA.md; the JSON form is the contract.
type Result struct {
	IP        netip.Addr `json:"ip"`
	Port      uint16     `json:"port"`
	Status    Status     `json:"status"`
	Timestamp time.Time  `json:"timestamp"`
	SMB       *SMB       `json:"smb,omitempty"`
	Flags     []string   `json:"flags,omitempty"`
	Error     string     `json:"error,omitempty"`
}

// SMB holds the protocol facts. SMB2 fields are empty when the SMB2
// NEGOTIATE failed (see SMB2Error); facts from steps that succeeded are kept
// when a later step fails.
type SMB struct {
	SMB1            *SMB1      `json:"smb1,omitempty"`
	NetBIOS         *NetBIOS   `json:"netbios,omitempty"`
	Dialect         string     `json:"dialect,omitempty"`
	Signing         *Signing   `json:"signing,omitempty"`
	Capabilities    []string   `json:"capabilities,omitempty"`
	ServerGUID      string     `json:"server_guid,omitempty"`
	SystemTime      *time.Time `json:"system_time,omitempty"`
	ServerStartTime *time.Time `json:"server_start_time,omitempty"`
	MaxReadSize     uint32     `json:"max_read_size,omitempty"`
	MaxWriteSize    uint32     `json:"max_write_size,omitempty"`
	MaxTransactSize uint32     `json:"max_transact_size,omitempty"`
	Contexts        *Contexts  `json:"contexts,omitempty"`
	SPNEGOMechs     []string   `json:"spnego_mechs,omitempty"`
	NTLM            *NTLM      `json:"ntlm,omitempty"`
	Guest           *Guest     `json:"guest,omitempty"`
	SMB2Error       string     `json:"smb2_error,omitempty"`

	serverGUID [16]byte // raw, for fingerprinting
}

// SMB1 is the result of the SMB1-only NEGOTIATE on the second connection.
type SMB1 struct {
	Enabled bool `json:"enabled"`
	// Outcome is how the server answered: "negotiated" (dialect index 0),
	// "no-dialect" (index 0xFFFF, Samba), or a transport outcome
	// ("connection-closed", "connection-reset", "io-timeout",
	// "connection-refused", "connection-timeout", "not-smb",
	// "protocol-error", "error-status"): Windows disconnects.
	Outcome       string     `json:"outcome"`
	NativeOS      string     `json:"native_os,omitempty"`
	NativeLanMan  string     `json:"native_lanman,omitempty"`
	Domain        string     `json:"domain,omitempty"`
	SecurityMode  *uint8     `json:"security_mode,omitempty"`
	Signing       *Signing   `json:"signing,omitempty"`
	Capabilities  uint32     `json:"capabilities,omitempty"`
	MaxBufferSize uint32     `json:"max_buffer_size,omitempty"`
	MaxMpxCount   uint16     `json:"max_mpx_count,omitempty"`
	SystemTime    *time.Time `json:"system_time,omitempty"`
	TimeZone      *int16     `json:"time_zone,omitempty"`
	ServerGUID    string     `json:"server_guid,omitempty"`
	NTLM          *NTLM      `json:"ntlm,omitempty"`
	Error         string     `json:"error,omitempty"`

	serverGUID [16]byte
}

// Signing is the server's signing policy from a NEGOTIATE SecurityMode.
type Signing struct {
	Enabled  bool `json:"enabled"`
	Required bool `json:"required"`
}

// Contexts are the SMB 3.1.1 negotiate contexts the server returned
// (MS-SMB2 §2.2.4, §2.2.3.1). The server picks one cipher and one signing
// algorithm; it does not reveal its whole list.
type Contexts struct {
	Preauth          string       `json:"preauth,omitempty"`
	Cipher           string       `json:"cipher,omitempty"`
	SigningAlgorithm string       `json:"signing_algorithm,omitempty"`
	Compression      []string     `json:"compression,omitempty"`
	Other            []RawContext `json:"other,omitempty"`
}

// RawContext is a negotiate context the prober does not decode.
type RawContext struct {
	Type uint16 `json:"type"`
	Data []byte `json:"data"` // base64 in JSON
}

// NTLM is the NTLM CHALLENGE (MS-NLMP §2.2.1.2) the server sent in reply
// to our NTLM NEGOTIATE. No AUTHENTICATE is ever sent for it.
type NTLM struct {
	TargetName      string     `json:"target_name"`
	NetBIOSComputer string     `json:"netbios_computer"`
	NetBIOSDomain   string     `json:"netbios_domain"`
	DNSComputer     string     `json:"dns_computer"`
	DNSDomain       string     `json:"dns_domain"`
	DNSTree         string     `json:"dns_tree"`
	Timestamp       *time.Time `json:"timestamp,omitempty"`
	OSVersion       string     `json:"os_version,omitempty"` // major.minor.build
	OSName          string     `json:"os_name,omitempty"`    // from the Windows build table
	Revision        uint8      `json:"ntlm_revision,omitempty"`
	Flags           uint32     `json:"flags"`

	hasVersion   bool
	major, minor uint8
	build        uint16
}

// Guest is the opt-in guest follow-up (Config.Shares): a logon as "guest"
// with an empty password, then a share listing.
type Guest struct {
	Allowed            bool     `json:"allowed"`
	EncryptionRequired bool     `json:"encryption_required"`
	Shares             []string `json:"shares,omitempty"`
	Error              string   `json:"error,omitempty"`

	// AsGuest (SMB1 only) is the SMB_SETUP_GUEST bit of the logon's Action
	// (MS-CIFS §2.2.4.53.2): the server mapped the logon to its guest account.
	AsGuest *bool `json:"as_guest,omitempty"`
}

// dialectName renders a DialectRevision (MS-SMB2 §2.2.4).
func dialectName(d uint16) string {
	switch d {
	case dialect202:
		return "2.0.2"
	case dialect210:
		return "2.1"
	case dialect300:
		return "3.0"
	case dialect302:
		return "3.0.2"
	case dialect311:
		return "3.1.1"
	case dialectWild:
		return "2.???"
	}
	return fmt.Sprintf("0x%04x", d)
}

// capabilityNames renders SMB2 global capabilities (MS-SMB2 §2.2.4).
func capabilityNames(c uint32) []string {
	var out []string
	for i := 0; i < 32; i++ {
		if c&(1<<i) == 0 {
			continue
		}
		if i < len(smb2CapNames) {
			out = append(out, smb2CapNames[i])
		} else {
			out = append(out, fmt.Sprintf("0x%x", uint32(1)<<i))
		}
	}
	return out
}

// guidString renders a GUID in its registry form (MS-DTYP §2.3.4.3): the
// first three fields little-endian.
func guidString(g [16]byte) string {
	return fmt.Sprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15])
}

// decodeContexts turns negotiate contexts into their JSON form.
func decodeContexts(cs []negotiateContext) *Contexts {
	if len(cs) == 0 {
		return nil
	}
	out := &Contexts{}
	u16s := func(b []byte, at, n int) []uint16 {
		var v []uint16
		for i := 0; i < n && at+2*i+2 <= len(b); i++ {
			v = append(v, uint16(b[at+2*i])|uint16(b[at+2*i+1])<<8)
		}
		return v
	}
	count := func(b []byte) int {
		if len(b) < 2 {
			return 0
		}
		return int(uint16(b[0]) | uint16(b[1])<<8)
	}
	for _, c := range cs {
		switch c.Type {
		case ctxPreauth: // §2.2.3.1.1: count, salt length, algorithms
			if v := u16s(c.Data, 4, count(c.Data)); len(v) > 0 {
				out.Preauth = lookup(hashNames, v[0])
			}
		case ctxEncryption: // §2.2.3.1.2: count, ciphers
			if v := u16s(c.Data, 2, count(c.Data)); len(v) > 0 {
				out.Cipher = lookup(cipherNames, v[0])
			}
		case ctxSigning: // §2.2.3.1.7: count, algorithms
			if v := u16s(c.Data, 2, count(c.Data)); len(v) > 0 {
				out.SigningAlgorithm = lookup(signingNames, v[0])
			}
		case ctxCompression: // §2.2.3.1.3: count, padding, flags, algorithms
			for _, a := range u16s(c.Data, 8, count(c.Data)) {
				out.Compression = append(out.Compression, lookup(compressionNames, a))
			}
		default:
			out.Other = append(out.Other, RawContext{Type: c.Type, Data: append([]byte(nil), c.Data...)})
		}
	}
	return out
}

func lookup(names map[uint16]string, v uint16) string {
	if n, ok := names[v]; ok {
		return n
	}
	return fmt.Sprintf("0x%04x", v)
}

// Algorithm ids: hash §2.2.3.1.1, cipher §2.2.3.1.2, compression
// §2.2.3.1.3, signing §2.2.3.1.7.
var (
	hashNames        = map[uint16]string{1: "sha-512"}
	cipherNames      = map[uint16]string{0: "none", 1: "aes-128-ccm", 2: "aes-128-gcm", 3: "aes-256-ccm", 4: "aes-256-gcm"}
	signingNames     = map[uint16]string{0: "hmac-sha256", 1: "aes-cmac", 2: "aes-gmac"}
	compressionNames = map[uint16]string{0: "none", 1: "lznt1", 2: "lz77", 3: "lz77+huffman", 4: "pattern_v1", 5: "lz4"}
)

// ntlmResult turns a parsed CHALLENGE into its JSON form.
func ntlmResult(c challenge) *NTLM {
	n := &NTLM{
		TargetName:      c.TargetName,
		NetBIOSComputer: c.NetBIOSComputer,
		NetBIOSDomain:   c.NetBIOSDomain,
		DNSComputer:     c.DNSComputer,
		DNSDomain:       c.DNSDomain,
		DNSTree:         c.DNSTree,
		Timestamp:       filetime(c.Timestamp),
		Flags:           c.Flags,
		hasVersion:      c.HasVersion,
		major:           c.Major,
		minor:           c.Minor,
		build:           c.Build,
	}
	if c.HasVersion {
		n.OSVersion = fmt.Sprintf("%d.%d.%d", c.Major, c.Minor, c.Build)
		n.Revision = c.Revision
		n.OSName = WindowsName(c.Major, c.Minor, c.Build)
	}
	return n
}
