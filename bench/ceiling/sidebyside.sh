#!/bin/bash
# sidebyside.sh: smbsweep, ZMap, masscan and the bare ceiling sender, side
# by side in one run, on the same sink, at unlimited rate, 1 and 2 threads.
#
# Everything runs inside a lab (smbsweep lab up --sink) created and removed
# by this script: the tools send on sink1, a veth whose far end drops every
# frame at ingress (nft netdev), in the lab's scanner namespace. Targets are
# only 198.18.0.0/15 (RFC 2544). Nothing touches the root namespace.
#
# pps is read from sink1's tx_packets counter over a fixed window (not the
# tools' own claims); CPU µs/packet from the process's utime+stime over the
# same window; RSS is VmHWM at the end. Medians of REPEATS runs.
#
# Usage (root): bench/ceiling/sidebyside.sh [REPEATS] [WINDOW_SECONDS]
set -euo pipefail
REPEATS=${1:-3}
WINDOW=${2:-3}
WARMUP=1.5
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=$(mktemp -d)
PREFIX=rsbench$$-
NS=${PREFIX}scan
SRC_IP=192.0.2.66
SRC_MAC=02:00:00:aa:00:01
DST_MAC=02:00:00:aa:00:fe
TARGETS=198.18.0.0/15

cleanup() {
	"$WORK/smbsweep" lab down --prefix "$PREFIX" >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT

(cd "$ROOT" && CGO_ENABLED=0 go build -o "$WORK/smbsweep" ./cmd/smbsweep)
gcc -O2 -Wall -pthread -o "$WORK/ceiling" "$HERE/ceiling.c"
: >"$WORK/empty.conf"
"$WORK/smbsweep" lab up --sink --prefix "$PREFIX" --open 0 --closed 0 >/dev/null
# ZMap needs an address on its interface (SIOCGIFADDR); a /32 inside the
# lab namespace adds no route.
ip -n "$NS" addr add $SRC_IP/32 dev sink1

counter() { ip netns exec "$NS" cat /sys/class/net/sink1/statistics/tx_packets; }
cputicks() { awk '{print $14+$15}' "/proc/$1/stat"; }

# measure NAME CMD...: start CMD in the namespace, measure over the window,
# stop it; prints "pps us_per_pkt rss_kib".
measure() {
	ip netns exec "$NS" "$@" >/dev/null 2>"$WORK/err" &
	local pid=$!
	sleep "$WARMUP"
	if ! kill -0 "$pid" 2>/dev/null; then
		echo "measure: $* exited early:" >&2; cat "$WORK/err" >&2; echo "0 0 0"; return
	fi
	local p0 c0 t0 p1 c1 t1 rss
	p0=$(counter); c0=$(cputicks "$pid"); t0=$(date +%s.%N)
	sleep "$WINDOW"
	p1=$(counter); c1=$(cputicks "$pid"); t1=$(date +%s.%N)
	rss=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
	kill -INT "$pid" 2>/dev/null || true
	sleep 0.3; kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	local tick; tick=$(getconf CLK_TCK)
	awk -v p="$((p1 - p0))" -v c="$((c1 - c0))" -v dt="$(echo "$t1 - $t0" | bc)" -v tick="$tick" -v rss="$rss" \
		'BEGIN { printf "%.0f %.3f %d\n", p/dt, (p > 0 ? c/tick*1e6/p : 0), rss }'
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

smb() { # smb THREADS TX
	echo "$WORK/smbsweep" scan --yes -q --allow-reserved -i sink1 -S $SRC_IP --source-mac $SRC_MAC -G $DST_MAC \
		--qdisc-bypass -r 0 -T "$1" --tx "$2" -p 1-1000 -c 0 -o /dev/null $TARGETS
}

echo "# side by side: $(date -u +%Y-%m-%dT%H:%MZ), $(go version | cut -d' ' -f3-4), $(lscpu | sed -n 's/Model name: *//p'), $(nproc) cores, kernel $(uname -r)"
echo "# $(zmap --version 2>&1 | head -1); $(masscan --version 2>&1 | grep -o 'version [0-9.]*' | head -1 | sed 's/^/masscan /'); window ${WINDOW}s after ${WARMUP}s warm-up, $REPEATS repeats, medians"
echo
# Configurations, measured round-robin (one run of each per repeat) so
# that load from other processes on the machine spreads over all of them.
LABELS=() THREADS=() CMDS=()
add() { LABELS+=("$1"); THREADS+=("$2"); CMDS+=("$3"); }
for T in 1 2; do
	add "bare C sendmmsg+bypass" $T "$WORK/ceiling mmsg $T 60 sink1 $DST_MAC"
	add "bare C TX ring+bypass" $T "$WORK/ceiling ring $T 60 sink1 $DST_MAC"
	add "smbsweep sendmmsg+bypass" $T "$(smb $T sendmmsg)"
	add "smbsweep TX ring+bypass" $T "$(smb $T ring)"
	add "zmap 2.1.1" $T "zmap -q -i sink1 -S $SRC_IP --source-mac=$SRC_MAC -G $DST_MAC -M tcp_synscan -p 445 -r 0 -T $T -P 200 -b $WORK/empty.conf -o /dev/null --disable-syslog $TARGETS"
done
add "masscan 1.3.2" 1 "masscan -e sink1 --adapter-ip $SRC_IP --adapter-mac $SRC_MAC --router-mac $DST_MAC -p1-65535 --rate 100000000 --wait 0 -oL /dev/null $TARGETS"

declare -A PPS CPU RSS
for rep in $(seq "$REPEATS"); do
	for i in "${!CMDS[@]}"; do
		# shellcheck disable=SC2086
		read -r a b c < <(measure ${CMDS[$i]})
		PPS[$i]+="$a "; CPU[$i]+="$b "; RSS[$i]+="$c "
	done
	echo "# repeat $rep done, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
done

echo "| sender                             | T | pps (median) | CPU µs/pkt | RSS KiB | pps of each run |"
echo "|------------------------------------|---|-----------|--------|---------|----------|"
for i in "${!CMDS[@]}"; do
	printf "| %-34s | %d | %9s | %6s | %7s | %s|\n" "${LABELS[$i]}" "${THREADS[$i]}" \
		"$(printf '%s\n' ${PPS[$i]} | median)" "$(printf '%s\n' ${CPU[$i]} | median)" \
		"$(printf '%s\n' ${RSS[$i]} | median)" "${PPS[$i]}"
done
echo
echo "# load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
