#!/usr/bin/env bash
# run.sh quick|full: smbsweep's benchmarks. Go micro-benchmarks (with
# allocations, repeated, summarized by benchstat) plus each area's side-by-side
# comparison with its peers; writes bench/out/ and assembles bench/RESULTS.md
# from the per-area sections in bench/results/.
set -euo pipefail
mode=${1:-quick}
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin:$(go env GOPATH)/bin"
out=bench/out; mkdir -p "$out"
count=5; [ "$mode" = quick ] && count=3

echo "== Go micro-benchmarks (count=$count)"
go test -run '^$' -bench . -benchmem -count "$count" ./blocklist/ ./rawscan/... ./smbprobe/... | tee "$out/micro.txt"
if ! command -v benchstat >/dev/null; then go install golang.org/x/perf/cmd/benchstat@latest; fi
if [ -f "$out/micro.prev.txt" ]; then benchstat "$out/micro.prev.txt" "$out/micro.txt" > "$out/micro.benchstat"; else benchstat "$out/micro.txt" > "$out/micro.benchstat"; fi
cp "$out/micro.txt" "$out/micro.prev.txt"

./bench/assemble.sh
