#!/usr/bin/env bash
# The tests on a busy machine: `pnpm test` five times and `pnpm test:slow` twice, each beside a process
# that burns a core (`node -e 'for(;;){}'`), as a loaded CI runner or a laptop compiling something would.
# Reports each run's result and duration, keeps each run's output in a log directory, and exits non-zero
# when any run failed. Usage: pnpm test:stress [fast-runs] [slow-runs]   (default 5 and 2)
set -u

fast_runs="${1:-5}"
slow_runs="${2:-2}"
root="$(cd "$(dirname "$0")/.." && pwd)"
logs="$(mktemp -d "${TMPDIR:-/tmp}/reword-stress.XXXXXX")"
cd "$root" || exit 2

# Each job in a process group of its own, so that stopping the script stops a run's whole tree.
set -m

# The core-burner: started once, stopped on every way out (its own process id only).
node -e 'for(;;){}' &
burner=$!
child=""
trap 'kill "$burner" 2>/dev/null' EXIT
trap '[ -n "$child" ] && kill -- "-$child" 2>/dev/null; exit 130' INT TERM

failed=0
results=()

run() {
  local name="$1" script="$2"
  local log="$logs/$name.log"
  local started=$SECONDS
  pnpm run --silent "$script" >"$log" 2>&1 &
  child=$!
  if wait "$child"; then
    results+=("PASS  $name  $((SECONDS - started)) s")
  else
    failed=$((failed + 1))
    results+=("FAIL  $name  $((SECONDS - started)) s  (see $log)")
  fi
  echo "${results[-1]}"
}

echo "stress: $fast_runs x pnpm test, $slow_runs x pnpm test:slow, beside a CPU burner (pid $burner); logs in $logs"
for n in $(seq 1 "$fast_runs"); do run "test-$n" test; done
for n in $(seq 1 "$slow_runs"); do run "test-slow-$n" test:slow; done

echo
echo "summary ($((fast_runs + slow_runs - failed)) of $((fast_runs + slow_runs)) runs passed):"
printf '%s\n' "${results[@]}"
[ "$failed" -eq 0 ]
