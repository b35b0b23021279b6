package blocklist

import (
	_ "embed"
	"strings"
	"sync"
)

// reservedConf is the built-in reserved list; each line cites its RFC.
//
//go:embed reserved.conf
var reservedConf string

// reserved parses reservedConf once. The Set it returns is immutable, so
// sharing it is safe.
var reserved = sync.OnceValue(func() *Set {
	s, err := Parse(strings.NewReader(reservedConf), "reserved.conf")
	if err != nil {
		panic(err) // the embedded file is tested; this cannot happen
	}
	return s
})

// Reserved returns the built-in reserved set: every block of the IANA IPv4
// Special-Purpose Address Registry plus multicast (224.0.0.0/4), embedded
// from reserved.conf, where each line cites its RFC. smbsweep never sends
// to these addresses unless --allow-reserved is given. The returned Set is
// shared and immutable.
func Reserved() *Set {
	return reserved()
}

// ReservedConf returns the text of the embedded reserved.conf, for
// --help output and audits.
func ReservedConf() string {
	return reservedConf
}
