module github.com/smbsweep/smbsweep

go 1.26.0

require (
	github.com/geoffgarside/ber v1.1.0 // indirect
	github.com/google/go-cmp v0.7.0 // indirect
	github.com/gopacket/gopacket v1.7.7 // indirect
	github.com/hirochachacha/go-smb2 v1.1.0 // indirect
	github.com/mdlayher/socket v0.8.0 // indirect
	golang.org/x/crypto v0.59.0 // indirect
	golang.org/x/net v0.62.0 // indirect
	golang.org/x/sync v0.24.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
)
