// Package endtoend is the bench harness's end-to-end section (issue #6):
// a /16 lab with the Samba matrix, the AnyIP smbd /24, the hostile hosts
// and the SYN-proxy /24, scanned and probed at unlimited rate by
// `smbsweep run` and by `zmap | zgrab2 smb`, each as a whole process in
// the lab's scanner namespace. It measures the wall time from start to
// the last record written, the hosts written and the SMB servers
// identified, and scores both against the lab's ground truth inside and
// outside the AnyIP /24 (where one smbd serves 256 addresses, so a tool's
// own probes can make the scan lose hosts).
//
// Run needs root, zmap on PATH and, for the peer, benchkit.Env.Zgrab2;
// the parsing and scoring (parse.go, score.go, report.go) are plain
// functions tested on recorded outputs.
//
// It is not a general benchmark driver: labs come from package benchlab,
// statistics from package stat.
package endtoend
