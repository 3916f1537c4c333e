#!/usr/bin/env bash
# Every shipped Linux scenario on the real guest under TCG: the verdict, the exit code,
# the dump's format and VMCOREINFO release, and the guest files untouched afterwards.
set -u
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
work=$(mktemp -d /tmp/cl-scen.XXXXXX); chmod 755 "$work"
# KEEP_RESULTS=DIR (a new or empty directory) keeps the result directories, dumps included,
# for the oracle tests to reuse (tests/integration/oracle-open.sh ORACLE_RESULTS=DIR).
keep() { [ -n "${KEEP_RESULTS:-}" ] && mkdir -p "$KEEP_RESULTS" && mv "$work/results"/t-* "$KEEP_RESULTS"/ 2>/dev/null; }
trap 'keep; rm -rf "$work"' EXIT
before=$(guest_sums)
release=$(json build/guest/manifest.json 'd["kernel_release"]')

run_one() { # lane scenario
    local lane=$1 sc=$2 name
    name=$(basename "$sc" .yaml)
    "$CRASHLAB" run "$sc" --results "$work/results" --state "$work/state$lane" --run-id "t-$name" --quiet \
        >"$work/$name.out" 2>"$work/$name.err"
    echo $? >"$work/$name.rc"
}
mkdir -p "$work/results"
# Two lanes, each with its own embedded libvirt root (one process per root at a time).
lane() {
    local i=0
    for sc in scenarios/linux/*.yaml; do
        [ $((i++ % 2)) = "$1" ] && run_one "$1" "$sc"
    done
}
lane 0 & lane 1 & wait

for sc in scenarios/linux/*.yaml; do
    name=$(basename "$sc" .yaml)
    res="$work/results/t-$name/result.json"
    if [ ! -f "$res" ]; then
        not_ok "$name: no result.json ($(head -c 400 "$work/$name.err"))"
        continue
    fi
    check "$name: result.json matches the schema" schema_ok "$res"
    verdict=$(json "$res" 'd["verdict"]')
    expected=$(json "$res" 'd["expected_verdict"]')
    rc=$(cat "$work/$name.rc")
    if [ "$name" = wrong-expectation ]; then
        check "$name: verdict fail, exit 1 (got $verdict, $rc)" test "$verdict" = fail -a "$rc" = 1
        continue
    fi
    check "$name: verdict $expected, exit 0 (got $verdict, exit $rc: $(json "$res" 'd["reason"]'))" test "$verdict" = "$expected" -a "$rc" = 0
    [ "$rc" = 0 ] || [ "$name" = wrong-expectation ] || tail -n 20 "$work/$name.err" | sed 's/^/# /' 
    # guest-dump's dump is the guest's own, checked below.
    case "$name:$verdict" in
    guest-dump:*) ;;
    *:expected-crash|*:hang)
        dump=$(json "$res" 'd.get("dump",{}).get("path","")')
        fmt=$(json "$res" 'd.get("dump",{}).get("format","")')
        check "$name: dump written ($fmt)" test -n "$dump" -a -s "$work/results/t-$name/$dump"
        if [ -n "$dump" ]; then
            "$CRASHLAB" inspect "$work/results/t-$name/$dump" --json >"$work/$name.inspect" 2>/dev/null
            got=$(json "$work/$name.inspect" 'd.get("os",{}).get("release","")' 2>/dev/null)
            check "$name: dump VMCOREINFO names release $release (got '$got')" test "$got" = "$release"
            # One classifier reads the dump's kernel log and the console: one title.
            t=$(json "$res" 'd["crash"].get("title","")') ct=$(json "$res" 'd["crash"].get("console_title","")')
            check "$name: the console and the dump give one title ('$t' / '$ct')" test -n "$t" -a "$t" = "$ct"
        fi
        ;;
    esac
    if [ "$name" = guest-dump ]; then
        # The guest ran on after its panic, came back, and its file was fetched and verified.
        ladder=$(json "$res" '" ".join(x["step"] for x in d["capture"]["ladder"])')
        check "$name: ladder went through guest-back, the stable dump file and collect ($ladder)" grep -q "guest-back guest-dump-file collect" <<<"$ladder"
        f=$(json "$res" 'd["capture"]["guest_dumps"][0].get("path","")')
        want=$(json "$res" 'd["capture"]["guest_dumps"][0].get("sha256","")')
        check "$name: guest dump fetched, sha256 verified on the host" \
            test -n "$f" -a "$(sha256sum <"$work/results/t-$name/$f" | cut -d' ' -f1)" = "$want"
    fi
    if [ "$name" = smbios ]; then
        check "$name: fingerprint agrees" test "$(json "$res" 'd["fingerprint"]["agree"]')" = True
        check "$name: the dump holds exactly the configured strings" test \
            "$(json "$res" '"|".join(d["fingerprint"]["guest"]["smbios"]["system"][k] for k in ("manufacturer","product","version","serial"))')" \
            = "Xen|HVM domU|4.17|crashlab-smbios-0001"
    fi
    check "$name: no partial directory left" test -z "$(ls -A "$work/results" | grep '^\.' )"
done
after=$(guest_sums)
check "guest files byte-identical after every run" test "$before" = "$after"
finish
