// Package accuracy is the bench harness's accuracy section (issue #4): a
// /16 lab with about 1 % of addresses open on 445 and 1 % closed, scanned
// by smbsweep, ZMap and masscan at each requested rate, on a clean link
// and with 5 % loss each way (the lab's nft numgen impairment), and scored
// against the lab's ground truth: open hosts found, missed, and false
// positives, plus each tool's wall time.
//
// Every tool runs as a whole process in the lab's scanner namespace with
// the same cooldown; results are read from the tools' own output files
// (smbsweep JSON Lines, ZMap's saddr list, masscan's -oL list).
//
// It is not a throughput benchmark (package transmit is).
package accuracy
