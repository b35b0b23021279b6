#!/bin/bash
# sidebyside.sh: the transmit comparison (smbsweep, ZMap, masscan and the
# bare C sender of ceiling.c on a lab sink, round-robin, medians), now the
# harness's transmit section (bench/internal/transmit). Kept as a shortcut
# for that one section; it writes bench/results/harness/transmit.md and the
# transmit plots, not RESULTS.md. Needs root.
#
# Usage: bench/ceiling/sidebyside.sh [-quick]
# (The old REPEATS and WINDOW_SECONDS arguments are now the harness's:
# 3 repeats of a 2 s window in full mode.)
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/local/go/bin"
args=()
for a in "$@"; do
	case "$a" in
		*[!0-9]*) args+=("$a") ;;
		*) echo "sidebyside.sh: ignoring '$a' (repeats and window are set by the harness)" >&2 ;;
	esac
done
exec go run ./bench/cmd/bench -only transmit "${args[@]}"
