package smbprobe

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestFingerprint(t *testing.T) {
	boot := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	win := func(build uint16) *NTLM {
		return ntlmResult(challenge{HasVersion: true, Major: 10, Minor: 0, Build: build})
	}
	tests := []struct {
		name string
		smb  *SMB
		want []string
	}{
		{"nil", nil, nil},
		{"samba guest = name", &SMB{Dialect: "3.1.1", ServerGUID: "x", serverGUID: [16]byte{'s', 'r', 'v', '1'},
			NTLM: &NTLM{NetBIOSComputer: "SRV1"}}, []string{FlagSamba}},
		{"samba 6.1.0 without boot time", &SMB{Dialect: "3.1.1", NTLM: ntlmResult(challenge{HasVersion: true, Major: 6, Minor: 1})}, []string{FlagSamba}},
		{"6.1.0 with a boot time is not samba", &SMB{Dialect: "3.1.1", ServerStartTime: &boot,
			NTLM: ntlmResult(challenge{HasVersion: true, Major: 6, Minor: 1})}, nil},
		{"samba lanman", &SMB{SMB1: &SMB1{Enabled: true, NativeLanMan: "Samba 3.6.25"}}, []string{FlagSamba, FlagSMB1Only}},
		{"impacket guid", &SMB{Dialect: "2.0.2", ServerGUID: "x", serverGUID: impacketGUID}, []string{FlagImpacketLike}},
		{"impacket version", &SMB{Dialect: "2.0.2", NTLM: ntlmResult(challenge{HasVersion: true, Major: 255, Minor: 255, Build: 65535})}, []string{FlagImpacketLike}},
		{"impacket behind a windows NativeOS", &SMB{SMB1: &SMB1{Enabled: true, NativeOS: "Windows Server 2003 3790 Service Pack 2",
			ServerGUID: "x", serverGUID: impacketGUID}}, []string{FlagImpacketLike, FlagHoneypotSuspect, FlagSMB1Only}},
		{"responder", &SMB{Dialect: "0x02ff", ServerGUID: "x", serverGUID: responderGUIDs[0], NTLM: win(17763)}, []string{FlagHoneypotSuspect}},
		{"windows server 2019", &SMB{Dialect: "3.1.1", ServerStartTime: &boot, NTLM: win(17763)}, []string{FlagWindows}},
		{"unknown build", &SMB{Dialect: "3.1.1", NTLM: win(12345)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, fingerprint(tt.smb), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("flags (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWindowsName(t *testing.T) {
	tests := []struct {
		major, minor uint8
		build        uint16
		want         string
	}{
		{10, 0, 17763, "Windows 10 1809 / Server 2019"},
		{10, 0, 20348, "Windows Server 2022"},
		{6, 1, 7601, "Windows 7 SP1 / Server 2008 R2 SP1"},
		{6, 3, 9600, "Windows 8.1 / Server 2012 R2"},
		{6, 1, 0, ""}, // Samba
		{255, 255, 65535, ""},
	}
	for _, tt := range tests {
		if got := WindowsName(tt.major, tt.minor, tt.build); got != tt.want {
			t.Errorf("WindowsName(%d.%d.%d) = %q, want %q", tt.major, tt.minor, tt.build, got, tt.want)
		}
	}
}

func TestCapabilityNames(t *testing.T) {
	if diff := cmp.Diff([]string{"dfs", "leasing", "large_mtu", "multi_channel", "encryption", "0x100"}, capabilityNames(0x14f)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := dialectName(0x0abc); got != "0x0abc" {
		t.Errorf("unknown dialect %q", got)
	}
}
