#!/bin/sh
# deps.sh installs what the smbsweep lab runs (Debian/Ubuntu, as root) and
# says what is still missing. Used by 'make lab-deps', .ci/run and
# 'smbsweep lab deps'.
set -u
pkgs="iproute2 nftables samba smbclient python3-impacket tcpdump util-linux"
if [ "$(id -u)" != 0 ]; then
	echo "lab deps: must run as root (apt-get install $pkgs)" >&2
	exit 1
fi
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "lab deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	# Keep Debian from starting smbd/nmbd in the root namespace on install
	# (invoke-rc.d honours policy-rc.d exit 101): the lab runs its own smbd
	# instances inside network namespaces only.
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
		chmod +x /usr/sbin/policy-rc.d
		trap 'rm -f /usr/sbin/policy-rc.d' EXIT
	fi
	apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null ||
		echo "lab deps: apt-get update failed; trying the cached lists" >&2
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 $missing ||
		echo "lab deps: apt-get install failed" >&2
fi
rc=0
for t in ip nft tc smbd unshare /usr/bin/python3 tcpdump; do
	command -v "$t" >/dev/null 2>&1 || { echo "lab deps: missing program $t" >&2; rc=1; }
done
f=/usr/share/doc/python3-impacket/examples/smbserver.py
[ -f "$f" ] || { echo "lab deps: missing $f (package python3-impacket)" >&2; rc=1; }
[ "$rc" = 0 ] && echo "lab deps: ok"
exit "$rc"
