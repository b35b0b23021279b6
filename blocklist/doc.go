// Package blocklist decides which IPv4 addresses smbsweep may ever send to.
//
// A Set is an immutable, sorted set of IPv4 intervals with allocation-free
// membership tests and an index→address mapping over its members, so a scan
// iterates only allowed addresses (ZMap's constraint tree, as a sorted
// interval table). The built-in Reserved set is the IANA IPv4
// special-purpose registry. Files use ZMap's format. A Watcher reloads
// opt-out files while a scan runs and publishes each new Set atomically.
//
// This package opens no sockets and needs no privileges.
package blocklist
