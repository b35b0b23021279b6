#!/usr/bin/env bash
# assemble.sh: write bench/RESULTS.md from the per-area sections in
# bench/results/*.md, under a header naming this machine, kernel and versions.
set -euo pipefail
cd "$(dirname "$0")"
{
	echo "# smbsweep benchmark results"
	echo
	echo "Each section below names its own run's machine, date and versions; all"
	echo "comparisons are ratios measured side by side in one run, medians of repeats."
	echo "Sections are kept in bench/results/ and assembled by bench/assemble.sh."
	echo
	for f in summary targets blocklist lab rawscan smbprobe run report; do
		[ -f "results/$f.md" ] || continue
		echo; cat "results/$f.md"; echo
	done
} > RESULTS.md
echo "wrote bench/RESULTS.md"
