# drgn_cpus.py - drgn's view of each CPU the lab lists: run as
#   drgn -q -c DUMP -s VMLINUX [-s MODULE.ko ...] drgn_cpus.py CPUS.json
# where CPUS.json is the lab's linux.cpus[]. Prints one JSON line per CPU: the task current on
# it (per_cpu(current_task), as cpu_curr() does on 6.1) and drgn's symbol for the lab's rip
# (null when drgn has no symbol there, e.g. a module whose .ko it was not given).
import json
import sys

from drgn.helpers.linux.percpu import per_cpu

for c in json.load(open(sys.argv[1])):
    t = per_cpu(prog["current_task"], c["cpu"])
    rip = int(c["rip"], 16)
    try:
        s = prog.symbol(rip)
        sym = "%s+0x%x" % (s.name, rip - s.address)
    except LookupError:
        sym = None
    print(json.dumps({"cpu": c["cpu"], "pid": int(t.pid), "comm": t.comm.string_().decode(errors="replace"),
                      "symbol": sym}))
