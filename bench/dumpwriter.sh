# Sourced by bench/bench.sh (uses its row, unmeasured, note, jget, now, elapsed, $work, $SCEN,
# $ACCEL, $CRASHLAB): the lab's own dump writer (issue 12) against QEMU's, and its scaling
# curve. Per guest size one panicked guest is dumped three times while it stays paused: by
# crashlab (kdump-zstd), then by QEMU as kdump-zlib and as ELF (CRASHLAB_DUMP_ALSO), so all
# three see the same memory; then `zstd -1 -T0` compresses QEMU's ELF file (the RAM image,
# in the page cache), the physical limit of this machine.
# BENCH_DUMP_SIZES (MiB, default "256 1024 4096").

bench_dump_writer() {
    local mb scen r lab zlib elf zbytes ebytes lbytes t0 t1 zst curve
    curve=$work/dump-curve.txt
    : >"$curve"
    for mb in ${BENCH_DUMP_SIZES:-256 1024 4096}; do
        scen=$work/dump-$mb.yaml
        # A bigger guest boots slower under TCG: give it the time.
        sed -e "s/memory_mb: [0-9]*/memory_mb: $mb/" -e 's/timeouts: {boot: [0-9]*/timeouts: {boot: 600/' -e 's/run: [0-9]*}/run: 1800}/' "$SCEN" >"$scen"
        note "dump writer: $mb MiB guest"
        if ! CRASHLAB_DUMP_ALSO=kdump-zlib,elf "$CRASHLAB" run "$scen" --dump-format kdump-zstd --accel "$ACCEL" \
            --state "$work/st1" --results "$work/dumpres" --run-id "dump$mb" --quiet >"$work/dump$mb.out" 2>"$work/dump$mb.err"; then
            note "  run failed: $(tail -2 "$work/dump$mb.err" | tr '\n' ' ')"
            unmeasured "hypervisor dump, $mb MiB guest (vs virsh dump kdump-zlib)" s "<= 0.2" "the $mb MiB run failed"
            continue
        fi
        r=$work/dumpres/dump$mb
        read -r lab lbytes zlib zbytes elf ebytes < <(python3 - "$r/result.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))["dump"]
w = d.get("writer", {})
also = {a["format"]: a for a in w.get("also", [])}
lab = w.get("prepare_seconds", 0) + w.get("write_seconds", 0) if w.get("name") == "crashlab" else ""
g = lambda f, k: also.get(f, {}).get(k, "")
print(lab or "-", d["bytes"], g("kdump-zlib", "seconds") or "-", g("kdump-zlib", "bytes") or "-",
      g("elf", "seconds") or "-", g("elf", "bytes") or "-")
PY
)
        zst=""
        if [[ -s $r/dump-qemu.elf ]]; then
            cat "$r/dump-qemu.elf" >/dev/null
            t0=$(now)
            zstd -1 -T0 -q -f "$r/dump-qemu.elf" -o "$r/ram.zst" && t1=$(now) && zst=$(elapsed "$t0" "$t1")
        fi
        note "  crashlab ${lab}s ($lbytes B), QEMU kdump-zlib ${zlib}s ($zbytes B), QEMU ELF ${elf}s, zstd -1 -T0 ${zst}s"
        if [[ $lab == - ]]; then
            unmeasured "hypervisor dump, $mb MiB guest (vs virsh dump kdump-zlib)" s "<= 0.2" \
                "crashlab fell back to QEMU's writer: $(jget "$r/result.json" dump.writer.why)"
            continue
        fi
        row "hypervisor dump, $mb MiB guest (vs virsh dump kdump-zlib)" "$lab" "$zlib" s 0.2 lower \
            "crashlab kdump-zstd $((lbytes / 1000000)) MB vs QEMU kdump-zlib $((${zbytes/-/0} / 1000000)) MB, same paused guest"
        [[ -n $zst ]] && row "hypervisor dump, $mb MiB guest (vs zstd -1 -T0 of the RAM image)" "$lab" "$zst" s 2 lower \
            "zstd over QEMU's $((${ebytes/-/0} / 1000000)) MB ELF dump in the page cache"
        [[ $elf != - ]] && row "hypervisor dump, $mb MiB guest: QEMU ELF (vs crashlab)" "$elf" "$lab" s "" lower \
            "uncompressed, $((${ebytes/-/0} / 1000000)) MB"
        [[ $mb == 1024 ]] && row "hypervisor dump, 1 GiB idle Linux guest (absolute)" "$lab" "" s 0.8 abs-max \
            "kdump-compressed, zstd, opened by crash and drgn (tests/integration/dump-writer.sh)"
        [[ $mb == 4096 ]] && row "hypervisor dump, 4 GiB guest (absolute)" "$lab" "" s 2.5 abs-max ""
        echo "$mb $lab $zlib $elf ${zst:--}" >>"$curve"
        rm -f "$r"/dump*.kdump "$r"/dump-qemu.elf "$r/ram.zst"
    done
    if [[ -s $curve ]]; then
        note "scaling curve (MiB guest: crashlab, QEMU kdump-zlib, QEMU ELF, zstd -1 -T0; seconds)"
        while read -r l; do note "  $l"; done <"$curve"
    fi
}
