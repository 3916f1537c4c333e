#!/usr/bin/env python3
"""Boots the crashlab Linux guest under plain QEMU (TCG), fires one fault, and when the
kernel panics (pvpanic with -action panic=pause stops the guest) writes its memory with
QMP dump-guest-memory in each requested format. Used by tests/integration/inspect_linux.sh
and fingerprint tests; the dumps it writes are real, not synthetic.

usage: mkguestdump.py OUTDIR [--fault ID] [--cmdline ARGS] [--formats elf,kdump-zlib,...]
                      [--no-vmcoreinfo] [--smbios 'type=1,manufacturer=X,...'] [--mem MB]
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import time


def qmp_connect(path, deadline):
    while True:
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            return s
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.1)


class Qmp:
    def __init__(self, sock):
        self.f = sock.makefile("rw")
        self.events = []
        json.loads(self.f.readline())  # greeting
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        self.f.write(json.dumps({"execute": name, "arguments": args}) + "\n")
        self.f.flush()
        while True:
            line = self.f.readline()
            if not line:
                raise RuntimeError("QMP closed")
            msg = json.loads(line)
            if "event" in msg:
                self.events.append(msg)
                continue
            if "error" in msg:
                raise RuntimeError("%s: %s" % (name, msg["error"]))
            return msg.get("return")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--fault", default="bugcheck")
    ap.add_argument("--cmdline", default="")
    ap.add_argument("--formats", default="elf,kdump-zlib")
    ap.add_argument("--no-vmcoreinfo", action="store_true")
    ap.add_argument("--smbios", action="append", default=[])
    ap.add_argument("--mem", default="256")
    ap.add_argument("--smp", default="1")
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--guest", default="build/guest")
    ap.add_argument("--dump-on-timeout", action="store_true",
                    help="no panic by --timeout: stop the guest and dump it anyway (a hang)")
    ap.add_argument("--nmi-after", type=float, default=0,
                    help="inject an NMI this many seconds after boot (unknown_nmi_panic=1 panics)")
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    sock = os.path.join(a.outdir, "qmp.sock")
    if os.path.exists(sock):
        os.unlink(sock)
    cmd = ["qemu-system-x86_64", "-accel", "tcg", "-m", a.mem, "-smp", a.smp, "-nographic",
           "-no-reboot", "-nodefaults", "-serial", "file:" + os.path.join(a.outdir, "console.log"),
           "-device", "pvpanic", "-action", "panic=pause",
           "-qmp", "unix:%s,server=on,wait=off" % sock,
           "-kernel", os.path.join(a.guest, "vmlinuz"), "-initrd", os.path.join(a.guest, "initrd.img"),
           "-append", "console=ttyS0 %s crashlab.selftest=%s" % (a.cmdline, a.fault)]
    if not a.no_vmcoreinfo:
        cmd += ["-device", "vmcoreinfo"]
    for s in a.smbios:
        cmd += ["-smbios", s]
    qemu = subprocess.Popen(cmd, stdin=subprocess.DEVNULL)
    try:
        deadline = time.time() + a.timeout
        q = Qmp(qmp_connect(sock, deadline))
        start = time.time()
        nmi_sent = False
        while time.time() < deadline:
            st = q.cmd("query-status")
            if st["status"] in ("guest-panicked", "paused"):
                break
            if a.nmi_after and not nmi_sent and time.time() - start > a.nmi_after:
                q.cmd("inject-nmi")
                nmi_sent = True
            time.sleep(0.5)
        else:
            if not a.dump_on_timeout:
                print("mkguestdump: no panic within %ss" % a.timeout, file=sys.stderr)
                return 1
            q.cmd("stop")
        for fmt in a.formats.split(","):
            path = os.path.abspath(os.path.join(a.outdir, "dump." + fmt))
            if os.path.exists(path):
                os.unlink(path)
            q.cmd("dump-guest-memory", paging=False, protocol="file:" + path, format=fmt)
            print(path)
        q.cmd("quit")
        qemu.wait(timeout=30)
        return 0
    finally:
        if qemu.poll() is None:
            qemu.kill()
            qemu.wait()
        if os.path.exists(sock):
            os.unlink(sock)


if __name__ == "__main__":
    sys.exit(main())
