#!/bin/bash
# capture.sh: record Samba 4.17 and impacket replies as smbprobe fixtures.
#
# Run as root from the repository root: smbprobe/testdata/capture.sh [CONFIG...]
# CAPTURE_RUN selects the capture test (default TestCapture, the probe's
# own requests; TestCaptureSMB1Guest records the SMB1 guest follow-up);
# CAPTURE_NS_PREFIX names the namespaces (default smbprobe-cap-).
# Every server runs in its own throwaway network namespace (loopback only,
# no veth, nothing in the root namespace) and PID namespace; both are
# removed on exit. The capture itself is TestCapture in a test binary run
# inside that namespace, so no socket is ever created in the root namespace.
set -euo pipefail
run=${CAPTURE_RUN:-TestCapture}
out=$(pwd)/smbprobe/testdata/resp
bin=/tmp/smbprobe-capture.test
go test -c -o "$bin" ./smbprobe
work=$(mktemp -d /tmp/smbprobe-cap.XXXXXX)
pids=()
nss=()
# stop PID: unshare ignores SIGTERM while it waits, so SIGKILL its only child,
# the init of the PID namespace; that takes smbd's helpers down with it.
stop() {
	local c
	for c in $(pgrep -P "$1"); do kill -KILL "$c" 2>/dev/null || true; done
}
cleanup() {
	for p in "${pids[@]}"; do stop "$p"; done
	sleep 0.5
	for n in "${nss[@]}"; do ip netns del "$n" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

declare -A extra=(
	[nt1]="server min protocol = NT1"
	[smb2only]="server min protocol = SMB2_02"
	[smb3only]="server min protocol = SMB3_00"
	[maxsmb2]="server max protocol = SMB2_10"
	[smb1only]=$'server min protocol = NT1\nserver max protocol = NT1'
	[signreq]="server signing = mandatory"
	[encreq]="server smb encrypt = required"
	[noguest]=$'map to guest = Never\nrestrict anonymous = 2'
	[nontlm]="ntlm auth = disabled"
	[nbt]=$'smb ports = 445 139\nserver min protocol = NT1'
	[noguest-nt1]=$'server min protocol = NT1\nserver max protocol = NT1\nmap to guest = Never'
	[encreq-nt1]=$'server min protocol = NT1\nserver max protocol = NT1\nserver smb encrypt = required'
)
configs=("$@")
[ ${#configs[@]} -gt 0 ] || configs=(nt1 smb2only smb3only maxsmb2 smb1only signreq encreq noguest nontlm nbt impacket impacket-smb2)

wait_port() { # ns port
	for _ in $(seq 100); do
		ip netns exec "$1" bash -c "exec 3<>/dev/tcp/127.0.0.1/$2" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "server in $1 did not listen on $2" >&2; return 1
}

for cfg in "${configs[@]}"; do
	ns=${CAPTURE_NS_PREFIX:-smbprobe-cap-}$cfg
	d=$work/$cfg
	mkdir -p "$d"/{lock,state,cache,pid,private,ncalrpc,log,share}
	ip netns add "$ns"; nss+=("$ns")
	ip netns exec "$ns" ip link set lo up
	case $cfg in
	impacket|impacket-smb2)
		flag=; [ "$cfg" = impacket-smb2 ] && flag=-smb2support
		setsid bash -c 'echo $$ >"$0"; exec "$@"' "$d/pid.unshare" ip netns exec "$ns" unshare --pid --fork --kill-child=SIGKILL \
			/usr/bin/python3 /usr/share/doc/python3-impacket/examples/smbserver.py \
			-ip 127.0.0.1 -port 445 $flag PUBLIC "$d/share" >"$d/stdout.log" 2>&1 &
		;;
	*)
		cat >"$d/smb.conf" <<CONF
[global]
lock directory = $d/lock
state directory = $d/state
cache directory = $d/cache
pid directory = $d/pid
private dir = $d/private
ncalrpc dir = $d/ncalrpc
log file = $d/log/log.%m
server role = standalone server
interfaces = lo
bind interfaces only = yes
smb ports = 445
disable netbios = yes
load printers = no
printing = bsd
printcap name = /dev/null
disable spoolss = yes
passdb backend = tdbsam
map to guest = Bad User
guest account = nobody
workgroup = SRTEST
netbios name = SRTESTSRV
${extra[$cfg]}
[public]
path = $d/share
guest ok = yes
read only = yes
CONF
		setsid bash -c 'echo $$ >"$0"; exec "$@"' "$d/pid.unshare" ip netns exec "$ns" unshare --pid --fork --kill-child=SIGKILL \
			smbd --foreground --no-process-group --debug-stdout -s "$d/smb.conf" >"$d/stdout.log" 2>&1 &
		;;
	esac
	for _ in $(seq 50); do [ -s "$d/pid.unshare" ] && break; sleep 0.1; done
	pids+=("$(cat "$d/pid.unshare")")
	wait_port "$ns" 445
	ip netns exec "$ns" "$bin" -test.run "^$run\$" -test.v -capture.dir "$out/$cfg" -capture.addr 127.0.0.1:445
	if [ "$cfg" = nbt ]; then
		wait_port "$ns" 139
		ip netns exec "$ns" "$bin" -test.run "^$run\$" -test.v -capture.dir "$out/nbt-139" -capture.addr 127.0.0.1:139 -capture.netbios
	fi
	stop "${pids[-1]}"
done
