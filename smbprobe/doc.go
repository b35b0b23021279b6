// Package smbprobe asks an SMB server, over the kernel's TCP stack and in as
// few round trips as possible, what it is: SMB1 on or off, dialect, signing,
// capabilities, GUID and time, SMB 3.1.1 negotiate contexts, and the NTLM
// challenge's names and OS version.
package smbprobe
