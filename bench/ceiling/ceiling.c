// ceiling: the bare AF_PACKET send ceiling that smbsweep's transmitter is
// measured against (issue #4). It sends one fixed 66-byte Ethernet/IPv4/TCP
// SYN frame (the size of smbsweep's probes) as fast as the kernel takes it,
// with no cookie, no stamping and no pacing: the cost of the I/O mode alone.
//
// A test program of the benchmark, not part of the product. Run it only
// inside a sink namespace (bench/ceiling/sidebyside.sh does):
//
//   ceiling MODE THREADS SECONDS IFNAME DSTMAC
//     MODE: mmsg (sendmmsg, batch 128) or ring (PACKET_TX_RING, TPACKET_V2);
//     both with PACKET_QDISC_BYPASS.
//
// It prints the packets it handed to the kernel; the harness reads the
// interface counters instead.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 128
#define RING_FRAMES 4096
#define FRAME_SIZE 256
#define BLOCK_SIZE 65536

static unsigned char frame[66];
static int ifindex, ring_mode, seconds;
static atomic_ulong total;
static volatile int stop;

static void build_frame(const unsigned char *dst) {
	static const unsigned char src[6] = {0x02, 0, 0, 0, 0, 0x01};
	memcpy(frame, dst, 6);
	memcpy(frame + 6, src, 6);
	frame[12] = 0x08;
	unsigned char *ip = frame + 14;
	ip[0] = 0x45;
	ip[3] = 52;                     // total length
	ip[8] = 64;                     // TTL
	ip[9] = 6;                      // TCP
	ip[12] = 198, ip[13] = 18, ip[14] = 255, ip[15] = 1;
	ip[16] = 198, ip[17] = 18, ip[18] = 0, ip[19] = 1;
	unsigned char *tcp = ip + 20;
	tcp[0] = 0xee, tcp[1] = 0x48;   // 61000
	tcp[3] = 0xbd;                  // 445 (0x01bd)
	tcp[2] = 0x01;
	tcp[12] = 8 << 4;               // 32-byte header
	tcp[13] = 0x02;                 // SYN
	tcp[14] = 0xff, tcp[15] = 0xff;
	static const unsigned char opts[12] = {2, 4, 5, 0xb4, 1, 3, 3, 2, 1, 1, 4, 2};
	memcpy(tcp + 20, opts, 12);
	// Checksums are left zero: the sink drops the frame unread.
}

static int open_socket(void) {
	int fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0) { perror("socket"); exit(1); }
	int one = 1;
	if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) < 0) { perror("PACKET_QDISC_BYPASS"); exit(1); }
	int buf = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
	return fd;
}

static void bind_socket(int fd) {
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP), .sll_ifindex = ifindex};
	if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) { perror("bind"); exit(1); }
}

static void *send_mmsg(void *arg) {
	(void)arg;
	int fd = open_socket();
	bind_socket(fd);
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	memset(msgs, 0, sizeof msgs);
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = frame;
		iov[i].iov_len = sizeof frame;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	unsigned long n = 0;
	while (!stop) {
		int r = sendmmsg(fd, msgs, BATCH, 0);
		if (r > 0) n += r;
		else if (errno != ENOBUFS && errno != EAGAIN) { perror("sendmmsg"); exit(1); }
	}
	atomic_fetch_add(&total, n);
	return NULL;
}

static void *send_ring(void *arg) {
	(void)arg;
	int fd = open_socket();
	int v = TPACKET_V2;
	if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof v) < 0) { perror("PACKET_VERSION"); exit(1); }
	struct tpacket_req req = {.tp_block_size = BLOCK_SIZE, .tp_block_nr = RING_FRAMES * FRAME_SIZE / BLOCK_SIZE,
				  .tp_frame_size = FRAME_SIZE, .tp_frame_nr = RING_FRAMES};
	if (setsockopt(fd, SOL_PACKET, PACKET_TX_RING, &req, sizeof req) < 0) { perror("PACKET_TX_RING"); exit(1); }
	unsigned char *ring = mmap(NULL, (size_t)RING_FRAMES * FRAME_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (ring == MAP_FAILED) { perror("mmap"); exit(1); }
	bind_socket(fd);
	unsigned long n = 0;
	int next = 0;
	const int data = TPACKET2_HDRLEN - sizeof(struct sockaddr_ll);
	while (!stop) {
		int queued = 0;
		for (; queued < BATCH; queued++) {
			struct tpacket2_hdr *h = (void *)(ring + (size_t)next * FRAME_SIZE);
			if (__atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE) != TP_STATUS_AVAILABLE) break;
			memcpy((unsigned char *)h + data, frame, sizeof frame);
			h->tp_len = sizeof frame;
			__atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
			next = (next + 1) % RING_FRAMES;
		}
		if (send(fd, NULL, 0, MSG_DONTWAIT) < 0 && errno != EAGAIN && errno != ENOBUFS) { perror("send"); exit(1); }
		n += queued;
	}
	atomic_fetch_add(&total, n);
	return NULL;
}

int main(int argc, char **argv) {
	if (argc != 6) {
		fprintf(stderr, "usage: ceiling mmsg|ring THREADS SECONDS IFNAME DSTMAC\n");
		return 2;
	}
	ring_mode = strcmp(argv[1], "ring") == 0;
	int threads = atoi(argv[2]);
	seconds = atoi(argv[3]);
	ifindex = if_nametoindex(argv[4]);
	if (!ifindex) { perror(argv[4]); return 1; }
	unsigned char dst[6];
	if (sscanf(argv[5], "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &dst[0], &dst[1], &dst[2], &dst[3], &dst[4], &dst[5]) != 6) {
		fprintf(stderr, "bad MAC %s\n", argv[5]);
		return 2;
	}
	build_frame(dst);
	pthread_t t[64];
	for (int i = 0; i < threads && i < 64; i++)
		pthread_create(&t[i], NULL, ring_mode ? send_ring : send_mmsg, NULL);
	sleep(seconds);
	stop = 1;
	for (int i = 0; i < threads && i < 64; i++)
		pthread_join(t[i], NULL);
	printf("%lu\n", (unsigned long)atomic_load(&total));
	return 0;
}
