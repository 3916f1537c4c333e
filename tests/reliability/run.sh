#!/usr/bin/env bash
# `make test-reliability`: every tests/reliability/*.sh (each prints "ok - name" /
# "not ok - name"), RELIABILITY_JOBS (default 2) at a time, longest first, logs in
# build/test-logs/reliability-NAME.log. Around the whole suite: the sha256 of every guest
# input file (build/guest/*, build/linux/*, the shared Windows dumps) before and after,
# which must not change. TESTS=pattern runs only the scripts whose name matches.
# Ends with "N passed, N failed"; exit 0 only when nothing failed.
set -u
cd "$(dirname "$0")/../.."
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
log=build/test-logs
mkdir -p "$log"
jobs=${RELIABILITY_JOBS:-2}
start=$SECONDS

inputs() {
    find build/guest build/linux ../shared/testdata/windows-dumps -maxdepth 1 -type f 2>/dev/null \
        | LC_ALL=C sort | xargs -r sha256sum
}
before=$(inputs)

# Longest first, so that the short ones fill the gaps.
order=(bad-agent daemon-kill kill-qemu disk-full hostile hostile-serve bad-scenarios fuzz)
scripts=()
for n in "${order[@]}"; do [[ -f tests/reliability/$n.sh ]] && scripts+=("$n"); done
for f in tests/reliability/*.sh; do
    n=$(basename "$f" .sh)
    [[ $n == run || $n == lib || " ${scripts[*]} " == *" $n "* ]] || scripts+=("$n")
done

declare -A t0
running=0
for n in "${scripts[@]}"; do
    case "$n" in *${TESTS:-}*) ;; *) continue ;; esac
    while ((running >= jobs)); do wait -n; running=$((running - 1)); done
    t0[$n]=$SECONDS
    echo "reliability: $n started"
    ( bash "tests/reliability/$n.sh" >"$log/reliability-$n.log" 2>&1; echo "$? $((SECONDS - ${t0[$n]}))" >"$log/reliability-$n.rc" ) &
    running=$((running + 1))
done
wait

pass=0 fail=0 broken=()
for n in "${scripts[@]}"; do
    out=$log/reliability-$n.log
    [[ -f $log/reliability-$n.rc ]] || continue
    read -r rc secs <"$log/reliability-$n.rc"
    rm -f "$log/reliability-$n.rc"
    p=$(grep -c '^ok - ' "$out")
    f=$(grep -c '^not ok - ' "$out")
    if [[ $rc != 0 && $f == 0 ]]; then f=1; echo "not ok - $n exited $rc without naming a failed check" >>"$out"; fi
    if [[ $p == 0 && $f == 0 ]]; then f=1; echo "not ok - $n ran no check" >>"$out"; fi
    pass=$((pass + p)) fail=$((fail + f))
    printf '%-24s %4d ok %3d failed  %4ds\n' "$n" "$p" "$f" "$secs"
    if ((f > 0)); then
        broken+=("$n")
        grep -E '^not ok - ' "$out" | head -20 | sed 's/^/    /'
    fi
done

after=$(inputs)
if [[ $before == "$after" && -n $before ]]; then
    pass=$((pass + 1))
    printf '%-24s %4d ok %3d failed\n' "image-integrity" 1 0
else
    fail=$((fail + 1))
    broken+=(image-integrity)
    echo "not ok - image integrity: guest inputs changed during the suite"
    diff <(echo "$before") <(echo "$after") | sed 's/^/    /'
fi
((${#broken[@]})) && echo "failed: ${broken[*]} (logs in $log/reliability-*.log)"
echo "$pass passed, $fail failed ($((SECONDS - start)) s)"
((fail == 0))
