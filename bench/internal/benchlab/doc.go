// Package benchlab brings up and tears down the labs the bench harness
// measures in, through the smbsweep binary under test (`smbsweep lab up`,
// `lab status --json`, `lab down`), and runs commands inside a lab's
// scanner namespace with `ip netns exec`, so that every tool runs as a
// whole process in the same place and no packet reaches the root
// namespace.
//
// It is not the lab: topology, ground truth and impairments are package
// lab's; tests use lab/labtest in-process instead.
package benchlab
