#!/usr/bin/env bash
# run.sh [quick|full]: smbsweep's benchmark harness, bench/cmd/bench (what
# `make bench` and `make bench-quick` run). Needs root. It writes
# bench/results/harness/ and bench/plots/ and assembles bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
case "${1:-full}" in
	quick) exec go run ./bench/cmd/bench -quick ;;
	full) exec go run ./bench/cmd/bench ;;
	*) echo "usage: $0 [quick|full]" >&2; exit 2 ;;
esac
