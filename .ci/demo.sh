#!/usr/bin/env bash
# demo.sh: the main job on the built-in lab. See README.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"
make -s build
echo "smbsweep demo: the lab (issue #3) and the run pipeline (issue #6) are not built yet."
echo "What works today: the target permutation. A sample of the whole-IPv4 send order:"
./bin/smbsweep targets -n 10 --seed 1 0.0.0.0/0 || true
