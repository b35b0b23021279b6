package report

import (
	"strconv"
	"strings"
)

// windowsBuilds maps an NTLM VERSION (MS-NLMP §2.2.2.10) "major.minor.build"
// to a product name, after Microsoft's release tables. It mirrors the
// unexported table in smbprobe/fingerprint.go, which fills ntlm.os_name;
// a record's os_name wins, and this copy names records without one
// (written before os_name existed, or by other tools) and the builds
// smbprobe does not name (Samba's, impacket's).
var windowsBuilds = map[string]string{
	"5.1.2600":      "Windows XP",
	"5.2.3790":      "Windows Server 2003 / XP x64",
	"6.0.6000":      "Windows Vista",
	"6.0.6001":      "Windows Vista SP1 / Server 2008",
	"6.0.6002":      "Windows Vista SP2 / Server 2008 SP2",
	"6.1.7600":      "Windows 7 / Server 2008 R2",
	"6.1.7601":      "Windows 7 SP1 / Server 2008 R2 SP1",
	"6.2.9200":      "Windows 8 / Server 2012",
	"6.3.9600":      "Windows 8.1 / Server 2012 R2",
	"10.0.10240":    "Windows 10 1507",
	"10.0.10586":    "Windows 10 1511",
	"10.0.14393":    "Windows 10 1607 / Server 2016",
	"10.0.15063":    "Windows 10 1703",
	"10.0.16299":    "Windows 10 1709 / Server 1709",
	"10.0.17134":    "Windows 10 1803 / Server 1803",
	"10.0.17763":    "Windows 10 1809 / Server 2019",
	"10.0.18362":    "Windows 10 1903",
	"10.0.18363":    "Windows 10 1909 / Server 1909",
	"10.0.19041":    "Windows 10 2004 / Server 2004",
	"10.0.19042":    "Windows 10 20H2 / Server 20H2",
	"10.0.19043":    "Windows 10 21H1",
	"10.0.19044":    "Windows 10 21H2",
	"10.0.19045":    "Windows 10 22H2",
	"10.0.20348":    "Windows Server 2022",
	"10.0.22000":    "Windows 11 21H2",
	"10.0.22621":    "Windows 11 22H2",
	"10.0.22631":    "Windows 11 23H2",
	"10.0.25398":    "Windows Server 23H2",
	"10.0.26100":    "Windows 11 24H2 / Server 2025",
	"6.1.0":         "Samba (fixed VERSION 6.1.0)", // Samba 4.x, seen in smbprobe/testdata/resp
	"255.255.65535": "impacket smbserver",          // impacket, seen in smbprobe/testdata/resp/impacket
}

// buildName names an OS build, or returns "" when it is not a known one.
// Unknown builds of a known Windows major.minor are named by family.
func buildName(v string) string {
	if n, ok := windowsBuilds[v]; ok {
		return n
	}
	major, rest, ok := strings.Cut(v, ".")
	minor, build, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 {
		return ""
	}
	if _, err := strconv.ParseUint(build, 10, 16); err != nil {
		return ""
	}
	switch major + "." + minor {
	case "10.0":
		return "Windows 10/11 or Server 2016+ (unlisted build)"
	case "6.3":
		return "Windows 8.1 / Server 2012 R2 family"
	case "6.2":
		return "Windows 8 / Server 2012 family"
	case "6.1":
		return "Windows 7 / Server 2008 R2 family"
	}
	return ""
}
