package report

// record is the subset of smbprobe.Result (and of the scan facts that
// 'smbsweep run' adds) that the report aggregates. Unknown fields are
// ignored by encoding/json, so schema additions never break a report.
type record struct {
	IP        string   `json:"ip"`
	Port      uint16   `json:"port"`
	Status    string   `json:"status"`
	Timestamp string   `json:"timestamp"` // RFC 3339; parsed leniently
	SMB       *smbRec  `json:"smb"`
	Flags     []string `json:"flags"`
	Scan      *scanRec `json:"scan"`
}

type smbRec struct {
	SMB1     *smb1Rec     `json:"smb1"`
	Dialect  string       `json:"dialect"`
	Signing  *signingRec  `json:"signing"`
	Contexts *contextsRec `json:"contexts"`
	NTLM     *ntlmRec     `json:"ntlm"`
	Guest    *guestRec    `json:"guest"`
}

type smb1Rec struct {
	Enabled      bool        `json:"enabled"`
	NativeOS     string      `json:"native_os"`
	NativeLanMan string      `json:"native_lanman"`
	Signing      *signingRec `json:"signing"`
	NTLM         *ntlmRec    `json:"ntlm"`
}

type signingRec struct {
	Enabled  bool `json:"enabled"`
	Required bool `json:"required"`
}

type contextsRec struct {
	Cipher string `json:"cipher"`
}

type ntlmRec struct {
	NetBIOSComputer string `json:"netbios_computer"`
	NetBIOSDomain   string `json:"netbios_domain"`
	OSVersion       string `json:"os_version"`
	OSName          string `json:"os_name"`
}

type guestRec struct {
	Allowed            bool     `json:"allowed"`
	EncryptionRequired bool     `json:"encryption_required"`
	Shares             []string `json:"shares"`
}

// scanRec is the SYN-scan part of a 'smbsweep run' record.
type scanRec struct {
	Flags []string `json:"flags"`
}

// ntlm returns the NTLM CHALLENGE facts, preferring SMB2's over SMB1's.
func (s *smbRec) ntlm() *ntlmRec {
	if s.NTLM != nil {
		return s.NTLM
	}
	if s.SMB1 != nil {
		return s.SMB1.NTLM
	}
	return nil
}
