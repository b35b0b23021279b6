// Package blocklist decides which IPv4 addresses smbsweep may ever send to.
//
// A Set is an immutable, sorted set of IPv4 intervals with allocation-free,
// lock-free membership tests (Contains) and an index→address mapping over
// its members (At), so a scan iterates only allowed addresses: ZMap's
// constraint tree, as a sorted interval table with two bucket indexes. The
// built-in Reserved set is the IANA IPv4 special-purpose registry plus
// multicast, embedded from reserved.conf with an RFC on every line. A
// Watcher reloads opt-out files while a scan runs and publishes each new
// Set atomically.
//
// What it is not: it is IPv4 only, it knows nothing of ports, and it is not
// a permutation (rawscan/target walks a Set in random order). It opens no
// sockets and needs no privileges.
//
// # File format
//
// Files use ZMap's blocklist/allowlist format, one entry per line:
//
//	# whole-line comment
//	192.0.2.0/24            # a CIDR prefix; trailing comments are fine
//	198.51.100.7            # a single address
//	203.0.113.10-203.0.113.20  # an inclusive range (an extension to ZMap)
//
// Blank lines and surrounding spaces, tabs and a trailing '\r' are ignored.
// A prefix with host bits set is masked, as ZMap does: 192.0.2.77/24 means
// 192.0.2.0/24, because that is what users' files contain and rejecting it
// would break lists that work with ZMap. Everything else that is not one of
// the three forms — IPv6, hostnames, two entries on one line, a range whose
// first address is after its last — fails the whole file with an error of
// the form "optout.conf:17: invalid prefix "1.2.3.4/33"". Nothing is ever
// skipped silently. Set.String writes the same format, one CIDR per line,
// which Parse, ZMap and masscan all read back as the same set.
//
// # IPv4-mapped addresses
//
// Contains treats an IPv4-mapped IPv6 address (::ffff:a.b.c.d) as the IPv4
// address a.b.c.d, so a blocklisted host cannot slip through as its mapped
// form; every other IPv6 address, and the zero netip.Addr, is never a
// member. Files may not contain mapped addresses.
//
// # Reload semantics
//
// At scan start every opt-out (-b) file is compiled into the base set that
// the permutation iterates, so those addresses are never visited. The same
// files are then watched by a Watcher, whose current set the send path
// checks per target with Watcher.Contains. Therefore:
//
//   - an address added to an opt-out file during a scan takes effect at
//     once at send time (within about half a second of the file changing,
//     or immediately on SIGHUP);
//   - an address removed from an opt-out file during a scan is still
//     skipped until the next scan, because the base set compiled at start
//     still excludes it;
//   - a reload that fails to parse keeps the previous set and reports the
//     error; the scan goes on with the last good list.
package blocklist
