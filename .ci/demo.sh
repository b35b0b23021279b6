#!/usr/bin/env bash
# demo.sh: smbsweep's main job on the built-in lab, start to finish (root).
#
#   1. installs the lab's Debian packages if missing, builds the binary;
#   2. brings up a lab: a simulated /16 of 198.18.0.0/15 in network
#      namespaces, ~1% of addresses open on 445, the Samba matrix, impacket,
#      a /24 served by one smbd, hostile hosts and a SYN-proxy /24;
#   3. runs `smbsweep run` over the /16 inside the lab's scanner namespace,
#      with the status line visible;
#   4. prints a summary table and where the JSON lines and the HTML report are;
#   5. tears the lab down (also on failure or Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
if [ "$(id -u)" != 0 ]; then
	echo "make demo needs root: it creates network namespaces and runs Samba inside them." >&2
	exit 1
fi
./.ci/deps.sh lab
make -s build
bin=$PWD/bin/smbsweep
prefix=${DEMO_PREFIX:-smbsweep-demo-}
out=${DEMO_OUT:-$PWD/demo-out}
mkdir -p "$out"
rm -f "$out/results.jsonl" "$out/metadata.json" "$out/report.html"

"$bin" lab down --prefix "$prefix" >/dev/null 2>&1 || true
trap '"$bin" lab down --prefix "$prefix" >/dev/null 2>&1 || true' EXIT
echo "== lab up: 198.18.0.0/16, 1% open on 445, Samba matrix, hostile hosts"
start=$(date +%s.%N)
"$bin" lab up --prefix "$prefix" --size /16 --open 1% --samba --hostile
ns=$("$bin" lab status --prefix "$prefix" --json | sed -n 's/.*"scanner_namespace": *"\([^"]*\)".*/\1/p' | head -1)
[ -n "$ns" ] || { echo "demo: no scanner namespace in lab status" >&2; exit 1; }

echo
echo "== smbsweep run inside the lab's scanner namespace ($ns)"
ip netns exec "$ns" "$bin" run --yes --allow-reserved --rate 100000 --cooldown 3 --seed 1 \
	--contact demo@example.invalid --metadata "$out/metadata.json" \
	-o "$out/results.jsonl" 198.18.0.0/16

echo
echo "== summary"
"$bin" report -o "$out/report.html" "$out/results.jsonl"
end=$(date +%s.%N)
echo
printf 'demo: %s hosts in %s; page %s; metadata %s (%.0f s in all)\n' \
	"$(wc -l < "$out/results.jsonl")" "$out/results.jsonl" "$out/report.html" "$out/metadata.json" \
	"$(echo "$end - $start" | bc)"
