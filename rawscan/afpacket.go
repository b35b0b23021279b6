package rawscan

// AFPacketConfig configures the AF_PACKET connections of OpenTx, OpenTxRing
// and OpenRx (Linux only; each needs CAP_NET_RAW).
type AFPacketConfig struct {
	// Interface is the name of the network interface. Required.
	Interface string
	// NetNS, if not zero, is a file descriptor of the network namespace
	// to open the socket in (as mdlayher/socket's Config.NetNS). Zero
	// means the namespace of the calling thread.
	NetNS int
	// QdiscBypass sets PACKET_QDISC_BYPASS on sending sockets: frames go
	// straight to the driver, skipping the queueing discipline, traffic
	// shaping (tc netem) and the packet taps: tcpdump and egress captures
	// on the sending host do not see them (measured in the lab).
	QdiscBypass bool
	// Buffer is SO_SNDBUF of a sender or SO_RCVBUF of the receiver in
	// bytes; 0 means 4 MiB. The kernel caps it at wmem_max/rmem_max.
	Buffer int
	// RingFrames is the number of frame slots of a PACKET_TX_RING;
	// 0 means 4096.
	RingFrames int
}

// defaultSocketBuffer is the default of AFPacketConfig.Buffer.
const defaultSocketBuffer = 4 << 20
