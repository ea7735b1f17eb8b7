#!/usr/bin/env bash
# Runs the tests of parallel workers N times in a row (default 20) while two busy processes
# load both cores, as CI's busy machine does; one line per run in parallel_under_load.txt.
# Usage: bash scripts/parallel_under_load.sh [N]   (PostgreSQL at 127.0.0.1:5432 required)
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
python3 -c "while True: pass" & busy1=$!
python3 -c "while True: pass" & busy2=$!
trap 'kill $busy1 $busy2' EXIT
failed=0
for i in $(seq 1 "$runs"); do
  start=$(date +%s)
  CI=true .venv/bin/python -m pytest -q -p no:cacheprovider \
    tests/test_parallel.py tests/test_crash.py \
    tests/test_multi_objective.py::test_four_multi_objective_workers_on_postgresql \
    tests/test_claims.py::test_exhaustion_with_many_workers_means_every_point_was_tried \
    tests/test_claims.py::test_exhaustion_with_many_workers_on_postgresql \
    tests/test_claims.py::test_a_new_study_with_many_workers_is_not_stopped_early \
    > "parallel_under_load_$i.log" 2>&1 || failed=$((failed + 1))
  echo "run $i: $(tail -1 "parallel_under_load_$i.log"), $(( $(date +%s) - start )) s," \
    "load $(cut -d' ' -f1 /proc/loadavg)" | tee -a parallel_under_load.txt
done
echo "$failed of $runs runs failed"
exit $(( failed > 0 ))
