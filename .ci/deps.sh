#!/usr/bin/env bash
# deps.sh [test|lab|bench|all]: install what smbsweep's tests, lab and
# benchmarks need from Debian's packages, and say clearly what is missing.
# Needs root for apt-get; without it, only reports.
set -euo pipefail
what=${1:-test}
lab=(samba smbclient python3-impacket nftables iproute2 tcpdump ethtool procps psmisc bc)
# The report page test renders in headless Chromium.
browser=(chromium fonts-dejavu-core)
bench=(zmap masscan nmap time linux-perf)
case "$what" in
	lab) pkgs=("${lab[@]}") ;;
	test) pkgs=("${lab[@]}" "${browser[@]}") ;;
	bench) pkgs=("${lab[@]}" "${bench[@]}") ;;
	all) pkgs=("${lab[@]}" "${browser[@]}" "${bench[@]}") ;;
	*) echo "usage: $0 [test|lab|bench|all]" >&2; exit 2 ;;
esac
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all present (${pkgs[*]})"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing ${missing[*]}; run as root: apt-get install -y ${missing[*]}" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq
# policy-rc.d keeps Debian from starting smbd/nmbd in the root namespace on
# install; the lab starts its own instances inside network namespaces.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
for p in "${missing[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || { echo "deps: $p could not be installed" >&2; exit 1; }
done
