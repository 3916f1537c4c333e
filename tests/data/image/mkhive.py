#!/usr/bin/env python3
"""Test fixtures for tests/integration/windows-image.sh (the lab's C code never runs this).

  mkhive.py empty OUT        an empty registry hive: the base block, one hbin with the
                             root key (nk) and its security cell (sk); hivexregedit
                             --merge then fills it.
  mkhive.py reg PREFIX       reads "KEY<TAB>NAME<TAB>TYPE<TAB>VALUE" lines (TYPE dword, sz,
                             expand, multi ('|' between strings), binary (hex bytes), key
                             (no value)) and prints a regedit file that lists every parent
                             key first, as hivexregedit --merge needs

Written from the regf layout (base block 4 KiB with an XOR checksum at 0x1FC; hbins
of 4 KiB; cells with a negative size when used), not copied from any hive.
"""
import struct
import sys


def sid(auth, *subs):
    return struct.pack("<BB", 1, len(subs)) + struct.pack(">IH", 0, auth) + b"".join(struct.pack("<I", s) for s in subs)


def security_descriptor():
    owner, group, everyone = sid(5, 32, 544), sid(5, 18), sid(1, 0)
    ace = struct.pack("<BBHI", 0, 0, 8 + len(everyone), 0x000F003F) + everyone
    acl = struct.pack("<BBHHH", 2, 0, 8 + len(ace), 1, 0) + ace
    off_owner = 20
    off_group = off_owner + len(owner)
    off_dacl = off_group + len(group)
    hdr = struct.pack("<BBHIIII", 1, 0, 0x8004, off_owner, off_group, 0, off_dacl)
    return hdr + owner + group + acl


def cell(body):
    size = (4 + len(body) + 7) & ~7
    return struct.pack("<i", -size) + body + b"\0" * (size - 4 - len(body))


def empty_hive():
    name = b"ROOT"
    nk_off, sd = 0x20, security_descriptor()
    nk_len = (4 + 0x4C + len(name) + 7) & ~7
    sk_off = nk_off + nk_len
    nk = struct.pack("<2sHQIIIIIIIIIIIIIIIHH", b"nk", 0x2C, 0, 0, 0xFFFFFFFF, 0, 0, 0xFFFFFFFF, 0xFFFFFFFF,
                     0, 0xFFFFFFFF, sk_off, 0xFFFFFFFF, 0, 0, 0, 0, 0, len(name), 0) + name
    sk = struct.pack("<2sHIIII", b"sk", 0, sk_off, sk_off, 1, len(sd)) + sd
    cells = cell(nk) + cell(sk)
    assert len(cell(nk)) == nk_len
    hbin_size = 4096
    free = hbin_size - 0x20 - len(cells)
    hbin = struct.pack("<4sIIQQI", b"hbin", 0, hbin_size, 0, 0, 0) + cells + struct.pack("<i", free) + b"\0" * (free - 4)
    assert len(hbin) == hbin_size
    base = bytearray(4096)
    struct.pack_into("<4sIIQIIIIIII", base, 0, b"regf", 1, 1, 0, 1, 3, 0, 1, nk_off, hbin_size, 1)
    csum = 0
    for i in range(0, 0x1FC, 4):
        csum ^= struct.unpack_from("<I", base, i)[0]
    struct.pack_into("<I", base, 0x1FC, csum)
    return bytes(base) + hbin


def utf16hex(t, text):
    data = text.encode("utf-16-le") + b"\0\0"
    if t == 7:
        data = b"".join(s.encode("utf-16-le") + b"\0\0" for s in text.split("|")) + b"\0\0"
    return "hex(%x):%s" % (t, ",".join("%02x" % b for b in data))


def regfile(prefix, lines):
    keys = {}
    for line in lines:
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        parts = line.split("\t")
        key = parts[0].strip("\\")
        comps = key.split("\\")
        for i in range(1, len(comps) + 1):
            keys.setdefault("\\".join(comps[:i]), [])
        if parts[2] == "key":
            continue
        name, typ, val = parts[1], parts[2], parts[3]
        if typ == "dword":
            v = "dword:%08x" % int(val, 0)
        elif typ == "sz" and not val.isascii():
            v = utf16hex(1, val)   # hivexregedit would take UTF-8 bytes for Latin-1
        elif typ == "sz":
            v = '"%s"' % val.replace("\\", "\\\\").replace('"', '\\"')
        elif typ == "expand":
            v = utf16hex(2, val)
        elif typ == "multi":
            v = utf16hex(7, val)
        elif typ == "binary":
            v = "hex:" + ",".join(val.split())
        else:
            sys.exit("unknown type " + typ)
        keys[key].append('"%s"=%s' % (name, v))
    out = ["Windows Registry Editor Version 5.00", ""]
    for k in keys:
        out.append("[%s\\%s]" % (prefix, k))
        out.extend(keys[k])
        out.append("")
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "empty":
        with open(sys.argv[2], "wb") as f:
            f.write(empty_hive())
    elif len(sys.argv) == 3 and sys.argv[1] == "reg":
        sys.stdout.write(regfile(sys.argv[2], sys.stdin))
    else:
        sys.exit(__doc__)


main()
