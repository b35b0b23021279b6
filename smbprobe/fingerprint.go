package smbprobe

import (
	"bytes"
	"strings"
)

// Fingerprint flags in Result.Flags. They are hints, not proof.
const (
	FlagSamba           = "samba"            // Samba's tells (see fingerprint)
	FlagImpacketLike    = "impacket-like"    // impacket smbserver's static GUID or VERSION
	FlagHoneypotSuspect = "honeypot-suspect" // a known static GUID (Responder) or inconsistent tells
	FlagWindows         = "windows"          // a real Windows NTLM VERSION and no other tell
	FlagSMB1Only        = "smb1-only"        // SMB1 negotiated, SMB2 refused
	// FlagSilentSubnet is not a fingerprint: the host never answered, and
	// its first reply was given Config.SilentTimeout rather than
	// ReadTimeout because its subnet was judged silent (silence.go).
	FlagSilentSubnet = "silent-subnet"
)

// windowsBuilds maps NTLM VERSION (MS-NLMP §2.2.2.10) major.minor.build to
// a product name, after Microsoft's release tables (and impacket's
// smb3.py WIN_VERSIONS). Client and server editions share builds.
var windowsBuilds = map[[2]uint16]string{
	{0x0501, 2600}:  "Windows XP",
	{0x0502, 3790}:  "Windows Server 2003 / XP x64",
	{0x0600, 6000}:  "Windows Vista",
	{0x0600, 6001}:  "Windows Vista SP1 / Server 2008",
	{0x0600, 6002}:  "Windows Vista SP2 / Server 2008 SP2",
	{0x0601, 7600}:  "Windows 7 / Server 2008 R2",
	{0x0601, 7601}:  "Windows 7 SP1 / Server 2008 R2 SP1",
	{0x0602, 9200}:  "Windows 8 / Server 2012",
	{0x0603, 9600}:  "Windows 8.1 / Server 2012 R2",
	{0x0a00, 10240}: "Windows 10 1507",
	{0x0a00, 10586}: "Windows 10 1511",
	{0x0a00, 14393}: "Windows 10 1607 / Server 2016",
	{0x0a00, 15063}: "Windows 10 1703",
	{0x0a00, 16299}: "Windows 10 1709 / Server 1709",
	{0x0a00, 17134}: "Windows 10 1803 / Server 1803",
	{0x0a00, 17763}: "Windows 10 1809 / Server 2019",
	{0x0a00, 18362}: "Windows 10 1903",
	{0x0a00, 18363}: "Windows 10 1909 / Server 1909",
	{0x0a00, 19041}: "Windows 10 2004 / Server 2004",
	{0x0a00, 19042}: "Windows 10 20H2 / Server 20H2",
	{0x0a00, 19043}: "Windows 10 21H1",
	{0x0a00, 19044}: "Windows 10 21H2",
	{0x0a00, 19045}: "Windows 10 22H2",
	{0x0a00, 20348}: "Windows Server 2022",
	{0x0a00, 22000}: "Windows 11 21H2",
	{0x0a00, 22621}: "Windows 11 22H2",
	{0x0a00, 22631}: "Windows 11 23H2",
	{0x0a00, 25398}: "Windows Server 23H2",
	{0x0a00, 26100}: "Windows 11 24H2 / Server 2025",
}

// WindowsName returns the Windows product of an NTLM VERSION (MS-NLMP
// §2.2.2.10: ProductMajorVersion, ProductMinorVersion, ProductBuild), after
// Microsoft's release tables, or "" when the build is not a listed Windows
// release. It is what fills NTLM.OSName; smbsweep report uses it too.
func WindowsName(major, minor uint8, build uint16) string {
	return windowsBuilds[[2]uint16{uint16(major)<<8 | uint16(minor), build}]
}

// responderGUIDs are the static ServerGuid values of Responder's SMB2
// NEGOTIATE answer (packets.py SMB2NegoAns, two releases).
var responderGUIDs = [][16]byte{
	{0xee, 0x85, 0xab, 0xf7, 0xea, 0xf6, 0x0c, 0x4f, 0x92, 0x81, 0x92, 0x47, 0x6d, 0xeb, 0x76, 0xa9},
	{0xea, 0x85, 0xab, 0xf1, 0xea, 0xf6, 0x0c, 0x4f, 0x92, 0x81, 0x92, 0x47, 0x6d, 0xeb, 0x72, 0xa9},
}

// impacketGUID is impacket smbserver's ServerGuid: sixteen 'A's.
var impacketGUID = [16]byte(bytes.Repeat([]byte{'A'}, 16))

// fingerprint derives Result.Flags from the facts:
//   - samba: ServerGuid is the NetBIOS name in ASCII (lower case, NUL
//     padded), or NTLM VERSION 6.1.0 with a zero ServerStartTime, or an SMB1
//     NativeLanMan starting "Samba";
//   - impacket-like: ServerGuid 'AAAA…' or NTLM VERSION 255.255.65535;
//   - honeypot-suspect: Responder's static GUIDs, or a Windows NativeOS
//     beside an impacket tell;
//   - windows: an NTLM VERSION in the Windows build table and no other tell.
func fingerprint(s *SMB) []string {
	if s == nil {
		return nil
	}
	var samba, impacket, honeypot bool
	var guids [][16]byte
	if s.ServerGUID != "" {
		guids = append(guids, s.serverGUID)
	}
	if s.SMB1 != nil && s.SMB1.ServerGUID != "" {
		guids = append(guids, s.SMB1.serverGUID)
	}
	var ntlms []*NTLM
	for _, n := range []*NTLM{s.NTLM, smb1NTLM(s.SMB1)} {
		if n != nil {
			ntlms = append(ntlms, n)
		}
	}
	for _, g := range guids {
		if g == impacketGUID {
			impacket = true
		}
		for _, r := range responderGUIDs {
			if g == r {
				honeypot = true
			}
		}
		for _, n := range ntlms {
			if n.NetBIOSComputer != "" && guidIsName(g, n.NetBIOSComputer) {
				samba = true
			}
		}
	}
	for _, n := range ntlms {
		if n.hasVersion && n.major == 255 && n.minor == 255 && n.build == 65535 {
			impacket = true
		}
		if n.hasVersion && n.major == 6 && n.minor == 1 && n.build == 0 && s.Dialect != "" && s.ServerStartTime == nil {
			samba = true
		}
	}
	if s.SMB1 != nil && strings.HasPrefix(s.SMB1.NativeLanMan, "Samba") {
		samba = true
	}
	if impacket && s.SMB1 != nil && strings.HasPrefix(s.SMB1.NativeOS, "Windows") {
		honeypot = true
	}
	var flags []string
	if samba {
		flags = append(flags, FlagSamba)
	}
	if impacket {
		flags = append(flags, FlagImpacketLike)
	}
	if honeypot {
		flags = append(flags, FlagHoneypotSuspect)
	}
	if !samba && !impacket && !honeypot {
		for _, n := range ntlms {
			if n.OSName != "" {
				flags = append(flags, FlagWindows)
				break
			}
		}
	}
	if s.Dialect == "" && s.SMB1 != nil && s.SMB1.Enabled {
		flags = append(flags, FlagSMB1Only)
	}
	return flags
}

func smb1NTLM(s *SMB1) *NTLM {
	if s == nil {
		return nil
	}
	return s.NTLM
}

// guidIsName reports whether g is name in ASCII, any case, NUL padded
// (Samba derives its ServerGuid so, observed in testdata/resp/nt1).
func guidIsName(g [16]byte, name string) bool {
	if len(name) > 16 {
		return false
	}
	for i := 0; i < 16; i++ {
		var c byte
		if i < len(name) {
			c = name[i]
		}
		if lower(g[i]) != lower(c) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
