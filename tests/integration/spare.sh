#!/usr/bin/env bash
# run --spare for real (issue 12): each warm run restores the next run's guest, paused,
# while it works; the next run resumes it. Checked: the first run restores from the save
# file and leaves a spare; the next ones start from it (alternating the two saved variants),
# each with its own console and a correct verdict; the kept QEMU is the lingering reaper's
# child (reaped at once when the next run ends it), not init's; a warm run without --spare
# drops it; `crashlab spare list|drop` see and remove it; `serve --spare` keeps one per slot
# between jobs and drops it when stopped; nothing is left at the end.
set -u
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
t=$(mktemp -d /tmp/crashlab-spare.XXXXXX)
chmod 0711 "$t"
st=$t/st res=$t/res
trap '"$CRASHLAB" spare drop --state "$st" >/dev/null 2>&1; [ -n "${daemon:-}" ] && kill "$daemon" 2>/dev/null; pkill -f "qemu-system.*$t/" 2>/dev/null; [ "${KEEP:-0}" = 1 ] || rm -rf "$t"' EXIT

qemus() { pgrep -f "qemu-system.*$st" | wc -l; }
run() { # run ID FLAG: one panic run; its result.json path on stdout
    "$CRASHLAB" run scenarios/linux/panic.yaml "$2" --accel tcg --state "$st" --results "$res" --run-id "$1" \
        --quiet >"$t/$1.out" 2>"$t/$1.err"
    echo "$res/$1/result.json"
}
field() { json "$1" "$2" 2>/dev/null; }

r1=$(run sp1 --spare)
check "first --spare run: expected-crash ($(field "$r1" 'd["verdict"]'))" test "$(field "$r1" 'd["verdict"]')" = expected-crash
check "first --spare run: started from the save file" test "$(field "$r1" 'd["warm"]["started_from"]')" = "save file"
check "first --spare run: the spare was made" test "$(field "$r1" 'd["warm"]["spare"]["prepared"]')" = True
check "first --spare run: result.json matches the schema" schema_ok "$r1"
check "spare list: one paused spare" bash -c "'$CRASHLAB' spare list --state '$st' | grep -c 'spare-.*paused' | grep -qx 1"
check "one QEMU is left, the spare ($(qemus))" test "$(qemus)" = 1
q=$(pgrep -f "qemu-system.*$st" | head -1)
pp=$(ps -o ppid= -p "$q" 2>/dev/null | tr -d ' ')
check "the spare's QEMU is the lingering reaper's child (parent $pp: $(cat /proc/$pp/comm 2>/dev/null))" \
    test -n "$pp" -a "$pp" != 1 -a "$(cat /proc/$pp/comm 2>/dev/null)" = "$(basename "$CRASHLAB" | cut -c1-15)"

r2=$(run sp2 --spare)
r3=$(run sp3 --spare)
for r in "$r2" "$r3"; do
    id=$(basename "$(dirname "$r")")
    check "$id: expected-crash ($(field "$r" 'd["verdict"]'))" test "$(field "$r" 'd["verdict"]')" = expected-crash
    check "$id: resumed the spare" test "$(field "$r" 'd["warm"]["started_from"]')" = spare
    check "$id: its own console with its own panic" grep -q "Kernel panic" "$(dirname "$r")/console.log"
    check "$id: result.json matches the schema" schema_ok "$r"
done
check "sp2 and sp3 resumed different saved variants" \
    test "$(field "$r2" 'd["warm"]["image"]')" != "$(field "$r3" 'd["warm"]["image"]')"
check "sp1's console is still its own after two more runs" grep -q "Kernel panic" "$res/sp1/console.log"
check "sp2 started faster than sp1 (resume vs restore: $(field "$r2" 'd["warm"]["restore_seconds"]') vs $(field "$r1" 'd["warm"]["restore_seconds"]') s)" \
    python3 -c "import sys; sys.exit(not float(sys.argv[1]) < float(sys.argv[2]))" \
    "$(field "$r2" 'd["warm"]["restore_seconds"]')" "$(field "$r1" 'd["warm"]["restore_seconds"]')"

# A warm run without --spare does not leave one, and drops the one it found.
r4=$(run sp4 --warm)
check "sp4 (--warm): expected-crash" test "$(field "$r4" 'd["verdict"]')" = expected-crash
check "sp4 (--warm): restored from the save file" test "$(field "$r4" 'd["warm"]["started_from"]')" = "save file"
gone=1
for _ in $(seq 50); do [ "$(qemus)" = 0 ] && { gone=0; break; }; sleep 0.2; done
check "after a run without --spare no QEMU is left" test "$gone" = 0

run sp5 --spare >/dev/null
check "spare drop: one dropped" bash -c "'$CRASHLAB' spare drop --state '$st' | grep -qx '1 spare dropped'"
gone=1
for _ in $(seq 50); do [ "$(qemus)" = 0 ] && { gone=0; break; }; sleep 0.2; done
check "after spare drop no QEMU is left" test "$gone" = 0
# The daemon with --spare: each slot keeps its spare between jobs; a stop drops it.
sst=$t/serve
mkdir -p "$sst" && chmod 0711 "$sst"
"$CRASHLAB" serve --state "$sst" --slots 1 --spare --backoff 1 >"$t/daemon.log" 2>&1 &
daemon=$!
for _ in $(seq 300); do "$CRASHLAB" status --state "$sst" >/dev/null 2>&1 && break; sleep 0.1; done
ids=$("$CRASHLAB" submit --state "$sst" --accel tcg scenarios/linux/panic.yaml scenarios/linux/panic.yaml scenarios/linux/panic.yaml)
"$CRASHLAB" wait $ids --timeout 600 --state "$sst" >/dev/null
froms=$(for d in "$sst"/results/*/; do json "$d/result.json" 'd["verdict"]+"/"+d["warm"]["started_from"]'; done | sort | uniq -c | tr -s ' ' | tr '\n' ';')
check "serve --spare: three panics, the first from the save file, two from the spare ($froms)" \
    test "$froms" = " 1 expected-crash/save file; 2 expected-crash/spare;"
kill -TERM "$daemon"
wait "$daemon"
gone=1
for _ in $(seq 50); do pgrep -f "qemu-system.*$sst" >/dev/null || { gone=0; break; }; sleep 0.2; done
check "serve --spare: a stopped daemon leaves no QEMU (its spares dropped)" test "$gone" = 0
check "spare with a bad action is refused (exit 2)" bash -c "'$CRASHLAB' spare frobnicate >/dev/null 2>&1; test \$? = 2"
finish
