// Package lab is smbsweep's simulated internet: network namespaces joined by
// veth pairs, answering 198.18.0.0/15 (RFC 2544) with real Samba servers and
// hostile hosts. Nothing in it is ever attached to the root namespace.
package lab
