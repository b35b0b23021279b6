// Package rawscan is smbsweep's stateless SYN scanner: a raw AF_PACKET
// transmitter that stamps prebuilt frames and a receiver that accepts only
// replies whose acknowledgement number matches a keyed cookie.
//
// It keeps no per-target state. The target permutation lives in the
// subpackage target.
package rawscan
