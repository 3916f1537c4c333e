#!/usr/bin/env bash
# linux.cpus[] of result.json (the task current on each CPU, read with the kernel's own BTF,
# and the rip's symbol, modules included) against drgn with the debug vmlinux and the debug
# .ko of pvpanic and labfault: real 2-vCPU runs (panic, oops) under TCG; per CPU the pid and
# comm must equal drgn's per_cpu(current_task), and the symbol drgn's prog.symbol(rip) where
# drgn names one (the module part " [name]" is the lab's, checked against the module drgn
# was given). At least one module symbol must be compared, or the test says so.
# CPUS_RESULTS=DIR reuses the results in DIR (run ids c-NAME); KEEP=1 keeps the work dir.
set -u
. "$(dirname "$0")/lib.sh"
. "$ROOT/scripts/oracle.sh"
cd "$ROOT"
command -v drgn >/dev/null || { not_ok "drgn is installed (make setup)"; finish; exit; }
work=$(mktemp -d /tmp/cl-cpus.XXXXXX); chmod 755 "$work"
trap '[ "${KEEP:-0}" = 1 ] || rm -rf "$work"' EXIT
release=$(json build/guest/manifest.json 'd["kernel_release"]')
vmlinux=$(oracle_vmlinux "$release") || { not_ok "debug vmlinux for the guest kernel $release"; finish; exit; }
mods=()
for ko in "/usr/lib/debug/lib/modules/$release/kernel/drivers/misc/pvpanic/pvpanic.ko" build/linux/labfault.ko; do
    [ -f "$ko" ] && mods+=(-s "$ko")
done
results=${CPUS_RESULTS:-$work/results}
mkdir -p "$results"
module_compared=0
for sc in panic oops; do
    id=c-$sc
    if [ ! -f "$results/$id/result.json" ]; then
        sed -e 's/^timeouts: .*/timeouts: {boot: 400, step: 120, observe: 120, run: 900}/' \
            -e 's/^  memory_mb: \([0-9]*\)$/  memory_mb: \1\n  vcpus: 2/' "scenarios/linux/$sc.yaml" >"$work/$id.yaml"
        "$CRASHLAB" run "$work/$id.yaml" --results "$results" --state "$work/state" --run-id "$id" --quiet \
            >"$work/$id.run" 2>&1
    fi
    res=$results/$id/result.json
    [ -f "$res" ] || { not_ok "$sc: no result.json ($(tail -c 300 "$work/$id.run" 2>/dev/null))"; continue; }
    schema_ok "$res" && ok "$sc: result.json fits the schema" || not_ok "$sc: result.json fits the schema"
    json "$res" 'd["crash"]["linux"]["cpus"]' >/dev/null 2>&1 || { not_ok "$sc: crash.linux.cpus in result.json"; continue; }
    python3 -c 'import json,sys; json.dump(json.load(open(sys.argv[1]))["crash"]["linux"]["cpus"], open(sys.argv[2], "w"))' \
        "$res" "$work/$id.cpus.json"
    dump=$(ls "$results/$id"/dump.* 2>/dev/null | head -1)
    timeout 300 drgn -q -c "$dump" -s "$vmlinux" "${mods[@]}" tests/oracle/drgn_cpus.py "$work/$id.cpus.json" \
        >"$work/$id.drgn" 2>"$work/$id.drgn.err" || { not_ok "$sc: drgn ($(tail -c 300 "$work/$id.drgn.err"))"; continue; }
    out=$(python3 - "$work/$id.cpus.json" "$work/$id.drgn" <<'PY'
import json, sys
lab = json.load(open(sys.argv[1]))
drgn = {d["cpu"]: d for d in map(json.loads, open(sys.argv[2]))}
for c in lab:
    d = drgn.get(c["cpu"])
    if d is None:
        print("bad cpu %d: drgn printed nothing" % c["cpu"]); continue
    task = (c.get("pid"), c.get("comm")) == (d["pid"], d["comm"])
    print("%s cpu %d: task lab %s/%s drgn %s/%s" % ("ok" if task else "bad", c["cpu"], c.get("pid"), c.get("comm"), d["pid"], d["comm"]))
    lab_sym = c.get("symbol") or ""
    fn = lab_sym.split(" [")[0]
    if d["symbol"] is None:
        print("skip cpu %d: drgn names no symbol at %s (lab: %s)" % (c["cpu"], c["rip"], lab_sym or "none")); continue
    print("%s cpu %d: symbol lab %s drgn %s" % ("ok" if fn == d["symbol"] else "bad", c["cpu"], lab_sym, d["symbol"]))
    if fn == d["symbol"] and " [" in lab_sym:
        print("module cpu %d" % c["cpu"])
PY
)
    while read -r verdict rest; do
        case $verdict in
            ok) ok "$sc: $rest" ;;
            bad) not_ok "$sc: $rest" ;;
            skip) echo "# $sc: $rest" ;;
            module) module_compared=$((module_compared + 1)) ;;
        esac
    done <<<"$out"
done
[ "$module_compared" -gt 0 ] && ok "module symbols compared with drgn: $module_compared" ||
    not_ok "no module symbol compared with drgn (pvpanic.ko debug file: ${mods[*]:-none})"
finish
