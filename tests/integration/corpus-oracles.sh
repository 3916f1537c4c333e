#!/usr/bin/env bash
# The corpus proven by real debuggers: every Linux fault scenario that leaves a dump is run
# on the real guest, `crashlab corpus build` collects the dumps, and `corpus verify --oracle
# drgn` and `--oracle crash` open each dump as written (no conversion step here) and agree
# with every label (one JUnit case per dump and label). A copy of the manifest with one
# label edited must fail (exit 1) naming that label, on stdout and in the JUnit file.
#
# CORPUS_RUNS=DIR reuses finished runs (e.g. a kept lab-scenarios results directory) instead
# of running the scenarios again.
set -u
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
t=$(mktemp -d /tmp/crashlab-oracles.XXXXXX); chmod 0711 "$t"
trap '[ "${KEEP:-0}" = 1 ] || rm -rf "$t"' EXIT

# Scenarios with no dump (pass, a cancelled wait, a leak, the guest's own dump, a deliberately
# wrong expectation) and smbios (a panic again, deduplicated anyway) are left out.
skip=" clean pool-leak hang-irp-cancel guest-dump wrong-expectation smbios "
scen=()
for sc in scenarios/linux/*.yaml; do
    case "$skip" in *" $(basename "$sc" .yaml) "*) continue ;; esac
    scen+=("$sc")
done

runs=${CORPUS_RUNS:-}
if [ -z "$runs" ]; then
    runs=$t/results
    mkdir -p "$runs"
    lane() { # two lanes, each with its own embedded libvirt root
        local i=0 sc name
        for sc in "${scen[@]}"; do
            [ $((i++ % 2)) = "$1" ] || continue
            name=$(basename "$sc" .yaml)
            "$CRASHLAB" run "$sc" --results "$runs" --state "$t/state$1" --run-id "o-$name" --quiet \
                >"$t/$name.out" 2>"$t/$name.err" || echo "# $name: exit $? ($(tail -n 3 "$t/$name.err" | tr '\n' ' '))"
        done
    }
    lane 0 & lane 1 & wait
fi

withdump=0
for sc in "${scen[@]}"; do
    name=$(basename "$sc" .yaml)
    res=$runs/o-$name/result.json
    [ -f "$res" ] || res=$(ls -d "$runs"/*"$name"*/result.json 2>/dev/null | head -1)
    if [ -z "$res" ] || [ ! -f "$res" ]; then
        not_ok "$name: no run"
        continue
    fi
    [ "$(jq -r '.dump.path // ""' "$res")" != "" ] && withdump=$((withdump + 1))
    # The label is the firing's: taken from the kernel log in the dump, pid a decimal number.
    check "$name: ground truth from the dump's kernel log, pid a number ($(jq -c '.ground_truth | {source,pid,comm}' "$res"))" \
        test "$(jq -r '.ground_truth.source + " " + (.ground_truth.pid|type)' "$res")" = "dump-log number"
done
check "at least 12 fault runs with a dump ($withdump)" test "$withdump" -ge 12

check "corpus: build" "$CRASHLAB" corpus build --from "$runs" --out "$t/corpus"
m=$t/corpus/manifest.json
n=$(jq .count "$m")
check "corpus: every entry says what a debugger needs (release, build-id, debug package, module)" test \
    "$(jq '[.dumps[] | select(.debug.kernel_release and .debug.build_id and .debug.debug_package and (.modules|length) > 0)] | length' "$m")" = "$n"
check "corpus: the build-id is the dump's own and matches the debug vmlinux" test \
    "$(jq '[.dumps[] | select(.debug.build_id_source == "vmcoreinfo" and .debug.vmlinux_matches == true)] | length' "$m")" = "$n"
check "corpus: self-check passes" "$CRASHLAB" corpus verify "$t/corpus"

for oracle in drgn crash; do
    "$CRASHLAB" corpus verify "$t/corpus" --oracle $oracle --junit "$t/$oracle.xml" >"$t/$oracle.out" 2>"$t/$oracle.err"
    rc=$?
    check "--oracle $oracle: exit 0 ($rc; $(tail -n 1 "$t/$oracle.out"))" test "$rc" = 0
    [ "$rc" = 0 ] || grep -E "^MISMATCH" "$t/$oracle.out" | head -n 20 | sed 's/^/# /'
    check "--oracle $oracle: every dump opened" test "$(grep -c "^ok [^ ]* open:" "$t/$oracle.out")" = "$n"
    check "--oracle $oracle: JUnit has one case per dump and label" test \
        "$(grep -c '<testcase ' "$t/$oracle.xml")" = "$(grep -cE '^(ok|MISMATCH|skip) ' "$t/$oracle.out")"
done
# What drgn must have confirmed, not only not contradicted.
for label in task pid comm cpu stack task_state panic crash_function; do
    k=$(grep -cE "^ok [^ ]* $label:" "$t/drgn.out")
    check "drgn confirmed '$label' in every dump that labels it ($k)" test "$k" -ge $((n - 2))
done
for label in wait_object_waiter lock_a_holder lock_b_holder timer_function slab_cache guard_page_hit lock_owner; do
    want=$(jq "[.dumps[] | select(.oracle_expect.$label != null)] | length" "$m")
    got=$(grep -cE "^ok [^ ]* $label:" "$t/drgn.out")
    check "drgn confirmed '$label' ($got of $want)" test "$got" = "$want"
done
k=$(grep -cE "^ok [^ ]* (panic|task|pid|comm):" "$t/crash.out")
check "crash confirmed panic/task/pid/comm labels ($k)" test "$k" -ge $((3 * n))

# One label edited in a copy (the dumps are shared by symlink): exit 1, the label named.
mkdir "$t/bad"
ln -s "$t/corpus/dumps" "$t/bad/dumps"
ln -s "$t/corpus/modules" "$t/bad/modules"
f=$(jq -r '[.dumps[] | select(.ground_truth.pid != null)][0].file' "$m")
jq --arg f "$f" '(.dumps[] | select(.file == $f) | .ground_truth.pid) += 1' "$m" >"$t/bad/manifest.json"
for oracle in drgn crash; do
    "$CRASHLAB" corpus verify "$t/bad" --oracle $oracle --junit "$t/bad-$oracle.xml" >"$t/bad-$oracle.out" 2>&1
    rc=$?
    check "--oracle $oracle on an edited pid label: exit 1 ($rc)" test "$rc" = 1
    check "--oracle $oracle names the label: MISMATCH $f pid" grep -q "^MISMATCH $f pid: " "$t/bad-$oracle.out"
    check "--oracle $oracle: JUnit failure for pid" /usr/bin/python3 -c '
import sys, xml.etree.ElementTree as E
cases = E.parse(sys.argv[1]).getroot().iter("testcase")
bad = [(c.get("classname"), c.get("name")) for c in cases if c.find("failure") is not None]
# pid fails; task may too (an oracle finds the task by the edited pid); nothing else does
sys.exit(0 if (sys.argv[2], "pid") in bad and set(bad) <= {(sys.argv[2], "pid"), (sys.argv[2], "task")} else 1)' \
        "$t/bad-$oracle.xml" "$f"
done

# The contract from outside: a template of one's own, and an oracle that prints no JSON.
"$CRASHLAB" corpus verify "$t/bad" --oracle-cmd \
    "/usr/bin/python3 $ROOT/lab/oracle/drgn_oracle.py --dump {dump} --vmlinux {vmlinux} --entry {entry} --corpus {corpus}" \
    >"$t/cmd.out" 2>&1
check "--oracle-cmd TEMPLATE: the same verdict as the built-in (exit $?)" grep -q "^MISMATCH $f pid: " "$t/cmd.out"
"$CRASHLAB" corpus verify "$t/corpus" --oracle-cmd 'echo not json' >"$t/nojson.out" 2>&1
check "--oracle-cmd printing no JSON: exit 1 ($?)" test $? = 1
check "--oracle-cmd printing no JSON: said so" grep -q "printed no JSON object" "$t/nojson.out"
"$CRASHLAB" corpus verify "$t/corpus" --oracle gdb >/dev/null 2>&1
check "--oracle gdb (not built in): exit 2" test $? = 2
finish
