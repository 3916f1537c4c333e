#!/usr/bin/env bash
# The libFuzzer targets (lab/**/*_fuzz.c: dump readers, YAML loader, agent replies; ASan
# and UBSan) each run for FUZZ_SECONDS (default 10) through `make fuzz`: a crash, leak,
# timeout or sanitizer report in any of them fails this check.
set -u
. "$(dirname "$0")/lib.sh"
secs=${FUZZ_SECONDS:-10}
targets=$(find lab -name '*_fuzz.c' | wc -l)
check "fuzz targets exist ($targets)" test "$targets" -ge 1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
make -s fuzz FUZZ_SECONDS="$secs" >"$log" 2>&1
rc=$?
sed 's/^/# /' "$log"
for f in $(find lab -name '*_fuzz.c' | sort); do
    n=$(basename "$f" .c)
    if grep -q "fuzz: $n FAILED" "$log"; then
        not_ok "fuzz: $n for ${secs}s (see build/fuzz/$n.log)"
    elif grep -q "fuzz: $n for" "$log"; then
        ok "fuzz: $n for ${secs}s"
    else
        not_ok "fuzz: $n did not run"
    fi
done
check "make fuzz FUZZ_SECONDS=$secs exit 0 (got $rc)" test "$rc" = 0
finish
