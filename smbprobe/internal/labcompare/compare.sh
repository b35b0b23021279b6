#!/bin/bash
# compare.sh: smbsweep probe vs zgrab2 v0.2.0 vs nmap 7.93 on the same lab
# hosts, in one run (issue #5 "Must show"). Run as root from the repository
# root:
#
#   smbprobe/internal/labcompare/compare.sh OUTDIR [REPEATS]
#
# Needs /tmp/smbsweep (go build -o /tmp/smbsweep ./cmd/smbsweep) and
# /tmp/zgrab2 (built in a scratch module: go get
# github.com/zmap/zgrab2/cmd/zgrab2@v0.2.0 && go build …); SMBSWEEP and
# ZGRAB2 override those paths, PREFIX the lab's prefix (default smbpcmp-),
# NMAP=0 skips nmap. Every tool runs
# inside the lab's scanner namespace (ip netns exec PREFIXscan), whose only
# route leads into the lab; targets are inside 198.18.0.0/22. The lab is
# brought down on exit.
set -euo pipefail
out=${1:?OUTDIR}
reps=${2:-3}
prefix=${PREFIX:-smbpcmp-}
smbsweep=${SMBSWEEP:-/tmp/smbsweep}
zgrab2=${ZGRAB2:-/tmp/zgrab2}
mkdir -p "$out"
"$smbsweep" lab down --prefix "$prefix" >/dev/null 2>&1 || true
trap '"$smbsweep" lab down --prefix "$prefix" >/dev/null 2>&1 || true' EXIT
"$smbsweep" lab up --prefix "$prefix" --range 198.18.0.0/22 --open 0 --closed 0 --samba >"$out/lab-up.log" 2>&1
"$smbsweep" lab status --prefix "$prefix" --json >"$out/status.json"
ns=${prefix}scan

# The 256 AnyIP hosts (one smbd) and the Samba matrix + impacket.
python3 - "$out" <<'PY'
import json, sys, ipaddress
out = sys.argv[1]
st = json.load(open(out + "/status.json"))
anyip, matrix = [], []
for s in st["servers"]:
    if s.get("prefix"):
        anyip = [str(a) for a in ipaddress.ip_network(s["prefix"])][:256]
    elif s["port"] == 445:
        matrix.append(s["address"])
open(out + "/anyip.txt", "w").write("\n".join(anyip) + "\n")
open(out + "/matrix.txt", "w").write("\n".join(matrix) + "\n")
PY
: >"$out/empty-blocklist"
nmap_scripts=smb-protocols,smb2-security-mode,smb2-time,smb2-capabilities,smb-os-discovery,smb-security-mode

run() { # name set rep cmd...
	local name=$1 set=$2 rep=$3; shift 3
	ip netns exec "$ns" /usr/bin/time -f "%e %U %S %M" -o "$out/$name-$set-$rep.time" "$@" \
		<"$out/$set.txt" >"$out/$name-$set-$rep.out" 2>"$out/$name-$set-$rep.err" || true
}
# nmap is slow here (per-host NetBIOS name queries that time out, up to 6
# connections per host): it runs once per set, under a time limit.
for set in matrix anyip; do
	for rep in $(seq "$reps"); do
		run smbsweep "$set" "$rep" "$smbsweep" probe --workers 256
		run smbsweep-w64 "$set" "$rep" "$smbsweep" probe --workers 64
		run smbsweep-shares "$set" "$rep" "$smbsweep" probe --workers 256 --smb-shares
		# zgrab2's own timeouts (10 s connect, 60 s per target), for a
		# like-for-like run against an overloaded smbd.
		run smbsweep-long "$set" "$rep" "$smbsweep" probe --workers 256 \
			--connect-timeout 10s --read-timeout 30s --host-timeout 60s
		run zgrab2 "$set" "$rep" "$zgrab2" smb --setup-session -b "$out/empty-blocklist" -s 256
	done
	[ "${NMAP:-1}" = 0 ] ||
		run nmap "$set" 1 timeout "${NMAP_TIMEOUT:-600}" nmap -Pn -n -p445 -T4 --min-parallelism 64 --script "$nmap_scripts" -iL - -oX -
done
echo "results in $out"
