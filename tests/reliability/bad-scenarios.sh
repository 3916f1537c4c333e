#!/usr/bin/env bash
# Malformed scenarios (tests/data/scenarios/bad/: syntax, types, unknown keys and faults,
# huge values, deep nesting, alias bombs...): every one is refused with FILE:LINE:COLUMN,
# at the position its "# expect: L:C" header names, without a sanitizer report, quickly
# and with bounded memory; `crashlab run` refuses them too (exit 2) and writes nothing.
set -u
. "$(dirname "$0")/lib.sh"
mkwork badscen
n=0
for f in tests/data/scenarios/bad/*.yaml; do
    n=$((n + 1))
    b=$(basename "$f")
    /usr/bin/time -v -o "$work/time" timeout -s KILL 20 "$CRASHLAB" validate "$f" >"$work/out" 2>"$work/err"
    rc=$?
    want=$(sed -n '1s/^# expect: \([0-9]*:[0-9]*\) .*/\1/p' "$f")
    first=$(head -1 "$work/err")
    problems=()
    [[ $rc == 1 ]] || problems+=("exit $rc")
    [[ $first =~ ^$f:[0-9]+:[0-9]+:\  ]] || problems+=("no FILE:LINE:COLUMN: '${first:0:120}'")
    [[ -z $want || $first == "$f:$want: "* ]] || problems+=("expected $want: '${first:0:120}'")
    grep -qE 'ERROR: AddressSanitizer|runtime error:' "$work/err" && problems+=("sanitizer report")
    mb=$(peak_mb "$work/time")
    [[ ${mb:-0} -le 256 ]] || problems+=("peak RSS $mb MiB")
    if ((${#problems[@]})); then not_ok "refused: $b (${problems[*]})"; else ok "refused: $b"; fi
done
check "the corpus is there ($n files)" test "$n" -ge 20

# `run` refuses before anything starts: exit 2, no results, no embedded root.
for b in alias-bomb.yaml deep-nesting.yaml bad-param-huge.yaml; do
    f=tests/data/scenarios/bad/$b
    # A missing fixture is a failure, not a silent skip (issue 14.6).
    [[ -f $f ]] || { not_ok "run refuses $b: the fixture $f is missing"; continue; }
    "$CRASHLAB" run "$f" --results "$work/r-$b" --state "$work/s-$b" >/dev/null 2>&1
    rc=$?
    check "run refuses $b (exit $rc) and writes nothing" \
        test "$rc" = 2 -a -z "$(ls -A "$work/r-$b" 2>/dev/null)" -a ! -e "$work/s-$b/embed"
done
finish
