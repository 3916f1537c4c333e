#!/usr/bin/env bash
# The Windows profile, proven as far as this machine allows (no Windows image here):
# every Windows scenario validates and prints XML that passes libvirt's schema and that
# libvirt turns into a QEMU command line; a real run boots the XML under TCG to the UEFI
# firmware on an empty base image, drops the enlightenments QEMU refuses without KVM with
# a recorded warning, and leaves the base image byte-identical.
set -u
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
work=$(mktemp -d /tmp/cl-win.XXXXXX); chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
qemu-img create -q -f qcow2 "$work/base.qcow2" 1G
base_sum=$(sha256sum <"$work/base.qcow2")

for sc in scenarios/windows/*.yaml; do
    name=$(basename "$sc" .yaml)
    check "$name: validates" "$CRASHLAB" validate --quiet "$sc"
    "$CRASHLAB" run "$sc" --print-xml --image "$work/base.qcow2" --state "$work/st" --quiet >"$work/$name.xml" 2>"$work/$name.err"
    check "$name: --print-xml" test -s "$work/$name.xml"
    check "$name: XML passes virt-xml-validate" virt-xml-validate "$work/$name.xml" domain
done
# libvirt itself accepts the XML: define it in an embedded driver and turn it into argv.
xml="$work/bugcheck.xml"
uri="qemu:///embed?root=$work/virsh"
check "libvirt defines the Windows domain" virsh -q -c "$uri" define "$xml"
virsh -q -c "$uri" domxml-to-native qemu-argv "$xml" >"$work/argv" 2>"$work/argv.err"
check "libvirt makes a QEMU command line with the Hyper-V crash MSRs" grep -q "hv-crash" "$work/argv"
check "... with q35 and the pvpanic device" grep -q "pvpanic" "$work/argv"
check "... with the lab's SMBIOS strings" grep -q "manufacturer=crashlab" "$work/argv"
# Issue 18: never qemu64 (no SSE4.2/POPCNT: Windows 11 24H2 reboots in a loop). Under TCG a
# named model QEMU's TCG implements completely, with both features required.
check "... with a named CPU model carrying SSE4.2 and POPCNT, not qemu64" \
    bash -c "grep -Eq -- '-cpu Westmere[^ ]*' '$work/argv' && ! grep -q 'qemu64' '$work/argv'"
check "QEMU's TCG implements every feature of that model (-cpu Westmere,enforce starts)" \
    bash -c "timeout 20 qemu-system-x86_64 -accel tcg -machine q35 -cpu Westmere,+sse4.2,+popcnt,enforce -display none -nodefaults -S -monitor none -serial none & p=\$!; sleep 3; kill -0 \$p && kill \$p"
"$CRASHLAB" run scenarios/windows/bugcheck.yaml --print-xml --accel kvm --image "$work/base.qcow2" --state "$work/st" --quiet >"$work/kvm.xml" 2>/dev/null
check "under KVM the CPU is host-passthrough" grep -q "<cpu mode='host-passthrough'" "$work/kvm.xml"

# A real start, to the firmware: the agent never answers (there is no Windows), so the run
# ends as infra-error, but only after QEMU ran the XML.
sed -e 's/boot: 300/boot: 45/' -e 's/run: 900/run: 120/' -e "s|build/windows/labfault.sys|$ROOT/build/windows/labfault.sys|" \
    scenarios/windows/bugcheck.yaml >"$work/short.yaml"
"$CRASHLAB" run "$work/short.yaml" --image "$work/base.qcow2" --results "$work/res" --state "$work/st" \
    --run-id win-firmware --no-check --quiet >/dev/null 2>"$work/run.err"
res="$work/res/win-firmware/result.json"
check "firmware run recorded" test -f "$res"
if [ -f "$res" ]; then
    check "firmware run: QEMU started the domain (boot phase timed)" test "$(json "$res" 'd["timings"].get("boot",-1) >= 0')" = True
    check "firmware run: verdict infra-error, the agent never came" test "$(json "$res" 'd["verdict"]')" = infra-error
    check "firmware run: reason names the agent" grep -q "agent" <<<"$(json "$res" 'd["reason"]')"
    w=$(json "$res" '" ".join(d["warnings"])')
    if [ "$(json "$res" 'd["host"]["accelerator"]')" = tcg ]; then
        check "firmware run: vpindex/stimer dropped under TCG with a warning ($w)" grep -q "vpindex and stimer" <<<"$w"
    fi
    check "firmware run: result.json records the guest CPU model (Westmere under TCG)" \
        test "$(json "$res" 'd["host"].get("cpu_model")')" = "$([ "$(json "$res" 'd["host"]["accelerator"]')" = tcg ] && echo Westmere || echo host-passthrough)"
    check "firmware run: the UEFI firmware ran (console)" grep -aq -E "BdsDxe|UEFI|Shell" "$work/res/win-firmware/console.log"
    check "firmware run: overlay in the run directory" test -s "$work/res/win-firmware/disk.qcow2"
    check "firmware run: overlay is backed by the base" grep -q "$work/base.qcow2" <<<"$(qemu-img info "$work/res/win-firmware/disk.qcow2")"
fi
check "base image byte-identical" test "$base_sum" = "$(sha256sum <"$work/base.qcow2")"
finish
