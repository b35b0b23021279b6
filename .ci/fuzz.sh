#!/usr/bin/env bash
# fuzz.sh DURATION: run every FuzzXxx target in the module for DURATION each.
set -euo pipefail
dur=${1:-2s}
cd "$(dirname "$0")/.."
n=0
for pkg in $(go list ./...); do
	for f in $(go test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
		echo "fuzz $pkg $f ($dur)"
		go test -run '^$' -fuzz "^${f}\$" -fuzztime "$dur" "$pkg" >/tmp/smbsweep-fuzz.log 2>&1 || { cat /tmp/smbsweep-fuzz.log; exit 1; }
		n=$((n+1))
	done
done
echo "fuzz: $n targets, $dur each, no crashers"
