package lab

import "net/netip"

// Status describes a running lab; `smbsweep lab status --json` prints it.
type Status struct {
	Prefix           string         `json:"prefix"`
	ScannerNamespace string         `json:"scanner_namespace"`
	Interface        string         `json:"interface"`
	SourceIP         netip.Addr     `json:"source_ip"`
	SourceMAC        string         `json:"source_mac"`
	GatewayIP        netip.Addr     `json:"gateway_ip"`
	GatewayMAC       string         `json:"gateway_mac"`
	Ranges           []netip.Prefix `json:"ranges"`
	Ports            []uint16       `json:"ports"`
	GroundTruth      string         `json:"ground_truth"` // path of the JSON file
	StateDir         string         `json:"state_dir"`
	Namespaces       []string       `json:"namespaces"`
	Servers          []Server       `json:"servers"`
	Hostile          []Hostile      `json:"hostile,omitempty"`
	Processes        []Process      `json:"processes"`
	// Impairment describes the impairments on the scanner's link, "" if none.
	Impairment string `json:"impairment,omitempty"`
	// Sinks are the transmit-rate sink interfaces in the scanner namespace.
	Sinks []string `json:"sinks,omitempty"`
	// Counters are the scanner namespace's interface counters, filled in by
	// Counters (and by `lab status`), keyed by interface name.
	Counters map[string]IfCounters `json:"counters,omitempty"`
}

// Server is one SMB server of the lab at one address (or prefix) and port.
type Server struct {
	Name    string     `json:"name"`
	Address netip.Addr `json:"address"`
	// Prefix is set when one server answers every address of a prefix.
	Prefix netip.Prefix `json:"prefix,omitzero"`
	Port   uint16       `json:"port"`
	Config string       `json:"config"` // the smb.conf lines that differ, or the command
	Expect Expect       `json:"expect"`
}

// Expect is what an SMB prober should find at a Server.
type Expect struct {
	Software string `json:"software"` // "samba" or "impacket"
	SMB1     bool   `json:"smb1"`     // answers an NT LM 0.12 negotiate
	// Dialect is the SMB2 dialect a negotiate offering 2.0.2 to 3.1.1
	// selects ("2.1", "3.1.1"), or "" if the server speaks no SMB2.
	Dialect            string `json:"dialect"`
	SigningRequired    bool   `json:"signing_required"`
	EncryptionRequired bool   `json:"encryption_required"`
	Guest              bool   `json:"guest"`   // a guest session may read share "public"
	NetBIOS            bool   `json:"netbios"` // port 139 session service
}

// Hostile is one misbehaving host.
type Hostile struct {
	Name    string       `json:"name"`
	Address netip.Addr   `json:"address"`
	Prefix  netip.Prefix `json:"prefix,omitzero"`
	Port    uint16       `json:"port"` // 0: every port
	Does    string       `json:"does"`
}

// Process is one process the lab started and will kill on Down.
type Process struct {
	Name string `json:"name"`
	PID  int    `json:"pid"`
}

// IfCounters are an interface's counters (ip -s link).
type IfCounters struct {
	TxPackets uint64 `json:"tx_packets"`
	TxBytes   uint64 `json:"tx_bytes"`
	TxDropped uint64 `json:"tx_dropped"`
	RxPackets uint64 `json:"rx_packets"`
	RxBytes   uint64 `json:"rx_bytes"`
	RxDropped uint64 `json:"rx_dropped"`
}
