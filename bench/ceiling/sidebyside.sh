#!/bin/bash
# sidebyside.sh: the transmit comparison (smbsweep, ZMap, masscan and the
# bare C sender of ceiling.c on a lab sink, round-robin, medians), now the
# harness's transmit section (bench/internal/transmit). Kept as a shortcut
# for that one section; it writes bench/results/harness/transmit.md and the
# transmit plots, not RESULTS.md. Needs root.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/local/go/bin"
exec go run ./bench/cmd/bench -only transmit "$@"
