#!/usr/bin/env bash
# Runs every unit-test binary and integration script, then prints one closing line
# "N passed, N failed". A check is a line "ok - name" or "not ok - name".
# TESTS=pattern runs only the tests whose file name matches.
set -u
cd "$(dirname "$0")/.."
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
log=build/test-logs
mkdir -p "$log"
pass=0 fail=0 broken=()
run_one() {
    local name=$1; shift
    local out="$log/$name.log" start=$SECONDS rc
    "$@" >"$out" 2>&1
    rc=$?
    local p f
    p=$(grep -c '^ok - ' "$out")
    f=$(grep -c '^not ok - ' "$out")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1
        echo "not ok - $name exited $rc without naming a failed check" >>"$out"
    fi
    if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
        f=1
        echo "not ok - $name ran no check" >>"$out"
    fi
    pass=$((pass + p)); fail=$((fail + f))
    printf '%-40s %4d ok %3d failed  %3ds\n' "$name" "$p" "$f" $((SECONDS - start))
    if [ "$f" -gt 0 ]; then
        broken+=("$name")
        grep -E '^not ok - ' "$out" | head -20 | sed 's/^/    /'
        tail -n 15 "$out" | sed 's/^/    | /'
    fi
}
for t in build/tests/*; do
    [ -x "$t" ] || continue
    case "$(basename "$t")" in *${TESTS:-}*) ;; *) continue ;; esac
    run_one "$(basename "$t")" "$t"
done
for t in tests/integration/*.sh; do
    [ -f "$t" ] || continue
    [ "$(basename "$t")" = lib.sh ] && continue   # sourced by the others, not a test
    case "$(basename "$t")" in *${TESTS:-}*) ;; *) continue ;; esac
    run_one "$(basename "$t" .sh)" bash "$t"
done
((${#broken[@]})) && echo "failed: ${broken[*]} (logs in $log/)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
