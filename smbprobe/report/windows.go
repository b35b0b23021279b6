package report

import (
	"strconv"
	"strings"

	"github.com/smbsweep/smbsweep/smbprobe"
)

// otherBuilds names the NTLM VERSIONs (MS-NLMP §2.2.2.10) that are not
// Windows releases but tell the server software.
var otherBuilds = map[string]string{
	"6.1.0":         "Samba (fixed VERSION 6.1.0)", // Samba 4.x, seen in smbprobe/testdata/resp
	"255.255.65535": "impacket smbserver",          // impacket, seen in smbprobe/testdata/resp/impacket
}

// buildName names an OS build "major.minor.build", or returns "" when it is
// not a known one. Windows releases come from smbprobe.WindowsName, the
// table that fills a record's ntlm.os_name; a record's os_name wins, and
// this names records without one (written before os_name existed, or by
// other tools). Unknown builds of a known Windows major.minor are named by
// family.
func buildName(v string) string {
	if n, ok := otherBuilds[v]; ok {
		return n
	}
	major, rest, ok := strings.Cut(v, ".")
	minor, build, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 {
		return ""
	}
	ma, err1 := strconv.ParseUint(major, 10, 8)
	mi, err2 := strconv.ParseUint(minor, 10, 8)
	b, err3 := strconv.ParseUint(build, 10, 16)
	if err1 != nil || err2 != nil || err3 != nil {
		return ""
	}
	if n := smbprobe.WindowsName(uint8(ma), uint8(mi), uint16(b)); n != "" {
		return n
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
