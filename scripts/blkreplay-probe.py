#!/usr/bin/env python3
# blkreplay probe (issue 17, README "Record and replay", "Disks"): records the lab's Linux guest
# (build/guest) with a qcow2 overlay on virtio-blk through QEMU's blkreplay driver to its panic,
# or replays that record, straight with qemu-system-x86_64 (no libvirt), and prints the
# icount and the sha256 of QEMU's ELF dump at the panic. A measurement by hand, not a test:
#   python3 scripts/blkreplay-probe.py record DIR && python3 scripts/blkreplay-probe.py replay DIR
import json, os, socket, subprocess, sys, time, hashlib
if len(sys.argv) != 3 or sys.argv[1] not in ("record", "replay"):
    sys.exit("usage: blkreplay-probe.py record|replay DIR")
mode = sys.argv[1]
d = os.path.abspath(sys.argv[2])
os.makedirs(d, exist_ok=True)
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
qmp_path = f"{d}/qmp-{mode}.sock"
if mode == "record":
    for f in ("base.qcow2", "ovl.qcow2", "replay.bin"):
        if os.path.exists(f"{d}/{f}"): os.unlink(f"{d}/{f}")
    subprocess.check_call(["qemu-img", "create", "-q", "-f", "qcow2", f"{d}/base.qcow2", "64M"])
    subprocess.check_call(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", f"{d}/base.qcow2", f"{d}/ovl.qcow2"])
    # the replay must start from the disk as it was: keep a copy of the overlay
    subprocess.check_call(["cp", f"{d}/ovl.qcow2", f"{d}/ovl-start.qcow2"])
else:
    subprocess.check_call(["cp", f"{d}/ovl-start.qcow2", f"{d}/ovl.qcow2"])
args = ["qemu-system-x86_64", "-machine", "pc-i440fx-7.2,usb=off", "-accel", "tcg", "-cpu", "qemu64", "-m", "256",
        "-smp", "1", "-display", "none", "-nodefaults", "-no-user-config", "-no-shutdown",
        "-qmp", f"unix:{qmp_path},server=on,wait=off",
        "-kernel", root + "/build/guest/vmlinuz", "-initrd", root + "/build/guest/initrd.img",
        "-append", "console=ttyS0,115200 loglevel=7 panic=0 crashlab.selftest=bugcheck:message=br",
        "-chardev", f"file,id=s0,path={d}/console-{mode}.log", "-device", "isa-serial,chardev=s0",
        "-device", "pvpanic", "-global", "apic.vapic=off", "-action", "panic=pause",
        "-icount", f"shift=auto,rr={mode},rrfile={d}/replay.bin",
        "-drive", f"file={d}/ovl.qcow2,if=none,id=img-direct,format=qcow2",
        "-drive", "driver=blkreplay,if=none,image=img-direct,id=img-blkreplay",
        "-device", "virtio-blk-pci,drive=img-blkreplay"]
t0 = time.time()
p = subprocess.Popen(args, stderr=open(f"{d}/qemu-{mode}.err", "w"))
time.sleep(1)
s = socket.socket(socket.AF_UNIX); s.connect(qmp_path); f = s.makefile("rw")
def cmd(c, **a):
    f.write(json.dumps({"execute": c, "arguments": a}) + "\n"); f.flush()
    while True:
        r = json.loads(f.readline())
        if "return" in r or "error" in r: return r
f.readline(); cmd("qmp_capabilities")
while True:
    st = cmd("query-status")["return"]["status"]
    if st != "running": break
    if p.poll() is not None or time.time() - t0 > 900: print("QEMU gone or timeout", st); sys.exit(1)
    time.sleep(0.5)
t_run = time.time() - t0
ic = cmd("query-replay")["return"]
dump = f"{d}/dump-{mode}.elf"
if os.path.exists(dump): os.unlink(dump)
print(cmd("dump-guest-memory", paging=False, protocol="file:" + dump))
cmd("quit"); p.wait()
h = hashlib.sha256(open(dump, "rb").read()).hexdigest()
print(json.dumps({"mode": mode, "status": st, "icount": ic, "seconds": round(t_run, 1), "dump_sha256": h}))
