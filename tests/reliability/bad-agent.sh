#!/usr/bin/env bash
# A real guest whose qemu-ga is replaced by badagent (guest-agent/linux/badagent.c,
# kernel argument crashlab.badagent=MODE): oversized replies, invalid JSON, wrong ids,
# endless output, no answer at all. For each, crashlab (the ASan build) must end on its
# own within the scenario's timeouts with verdict infra-error and a reason, keep its
# peak RSS bounded, report no sanitizer error and leave no domain behind.
# Then the lying guest: a well-formed agent that claims a dump at ../../etc/passwd or of
# 100 GB, or a file that never ends.
set -u
. "$(dirname "$0")/lib.sh"
mkwork badagent
RSS_CAP_MB=${RSS_CAP_MB:-600}
BOOT=60
passwd_sum=$(sha256sum /etc/passwd)

one() { # MODE: runs crashlab against a guest with badagent MODE; sets rc, secs, rss
    local mode=$1
    scenario "$work/$mode.yaml" 256 "crashlab.badagent=$mode" 10 "$BOOT"
    mkdir -p "$work/$mode.st" && chmod 755 "$work/$mode.st"
    local t0=$SECONDS
    # The outer timeout only tells a hang from an end: the lab has to stop by itself.
    timeout -s KILL 600 /usr/bin/time -v -o "$work/$mode.time" \
        "$CRASHLAB" run "$work/$mode.yaml" --accel tcg --state "$work/$mode.st" --results "$work/$mode.res" --run-id "$mode" \
        >"$work/$mode.out" 2>"$work/$mode.err"
    echo "$? $((SECONDS - t0))" >"$work/$mode.rc"
}

garbage() { # MODE: the checks for a protocol-breaking agent
    local mode=$1 rc secs res
    read -r rc secs <"$work/$mode.rc"
    res=$work/$mode.res/$mode/result.json
    check "$mode: crashlab ended by itself (exit $rc after ${secs}s)" test "$rc" -ge 1 -a "$rc" -le 3
    check "$mode: no sanitizer report" bash -c "! grep -qE 'ERROR: AddressSanitizer|runtime error:' '$work/$mode.err'"
    local mb
    mb=$(peak_mb "$work/$mode.time")
    check "$mode: peak RSS ${mb:-?} MiB <= $RSS_CAP_MB MiB" test "${mb:-99999}" -le "$RSS_CAP_MB"
    check "$mode: result recorded" test -f "$res"
    if [[ -f $res ]]; then
        local v r
        v=$(json "$res" 'd["verdict"]')
        r=$(json "$res" 'd["reason"]')
        check "$mode: verdict infra-error (got $v: ${r:0:160})" test "$v" = infra-error
        check "$mode: the reason names the agent" grep -qiE "agent|guest-|reply|json" <<<"$r"
    fi
    check "$mode: no domain left behind" test "$(domains_left "$mode")" = 0
}

# Two guests at a time (2 cores).
modes=(oversized invalid-json wrong-id endless silent lie-path lie-size lie-grow)
for ((i = 0; i < ${#modes[@]}; i += 2)); do
    one "${modes[i]}" &
    rel_pids+=($!)
    [[ -n ${modes[i + 1]:-} ]] && { one "${modes[i + 1]}" & rel_pids+=($!); }
    wait
done
for m in oversized invalid-json wrong-id endless silent; do
    garbage "$m"
done

# The lying guest. Nothing the guest names may become a host path: after the runs,
# /etc/passwd is untouched and the results directory holds nothing but run directories.
for m in lie-path lie-size lie-grow; do
    read -r rc secs <"$work/$m.rc"
    check "$m: crashlab ended by itself (exit $rc after ${secs}s)" test "$rc" -ge 1 -a "$rc" -le 3
    check "$m: no sanitizer report" bash -c "! grep -qE 'ERROR: AddressSanitizer|runtime error:' '$work/$m.err'"
    mb=$(peak_mb "$work/$m.time")
    check "$m: peak RSS ${mb:-?} MiB <= $RSS_CAP_MB MiB" test "${mb:-99999}" -le "$RSS_CAP_MB"
    stray=$(find "$work/$m.res" -mindepth 1 -maxdepth 1 ! -name "$m" | tr '\n' ' ')
    check "$m: nothing outside the run directory ($stray)" test -z "$stray"
    check "$m: verdict is not a pass ($(json "$work/$m.res/$m/result.json" 'd["verdict"]' 2>/dev/null))" \
        bash -c "! grep -q '\"verdict\": *\"\\(expected-crash\\|pass\\)\"' '$work/$m.res/$m/result.json'"
    check "$m: no domain left behind" test "$(domains_left "$m")" = 0
done
check "lying guest: /etc/passwd untouched" test "$(sha256sum /etc/passwd)" = "$passwd_sum"
check "lying guest: no file named after a guest path on the host" test -z "$(find "$work" -name passwd -o -name 'dump.bin')"
if ! "$CRASHLAB" --help 2>&1 | grep -qE '^ +collect ' && ! grep -rqs 'guest-file-read' "$ROOT/lab"; then
    echo "ok - lying guest: dump path/size refusal # SKIP the lab has no step that reads a file out of the guest (no collect, no guest-file-read in lab/): nothing to refuse yet"
fi
finish
