#include "dump/fingerprint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dump/elf/elfcore.h"
#include "dump/inspect_priv.h"
#include "dump/kdump/kdump.h"
#include "dump/linux/ldump.h"
#include "dump/linux/printk.h"
#include "dump/smbios.h"
#include "dump/windows/windump.h"

static const struct {
    const char *prefix;
    const char *platform;
} drivers[] = {
    { "xen", "Xen" }, { "xenvbd", "Xen" }, { "xennet", "Xen" }, { "xenbus", "Xen" }, { "xenfilt", "Xen" },
    { "xeniface", "Xen" }, { "xenvif", "Xen" }, { "xencrsh", "Xen" }, { "xen_", "Xen" }, { "xen-", "Xen" },
    { "vmbus", "Hyper-V" }, { "storvsc", "Hyper-V" }, { "netvsc", "Hyper-V" }, { "hyperkbd", "Hyper-V" },
    { "hypervideo", "Hyper-V" }, { "vmgencounter", "Hyper-V" }, { "winhv", "Hyper-V" }, { "hvsocket", "Hyper-V" },
    { "hv_", "Hyper-V" }, { "vmstorfl", "Hyper-V" },
    /* the root partition's side: this Windows was a Hyper-V host, not a guest */
    { "winhvr", "Hyper-V root" }, { "vmbusr", "Hyper-V root" }, { "vid.sys", "Hyper-V root" },
    { "viostor", "KVM/virtio" }, { "vioscsi", "KVM/virtio" }, { "netkvm", "KVM/virtio" }, { "balloon", "KVM/virtio" },
    { "vioser", "KVM/virtio" }, { "viorng", "KVM/virtio" }, { "viofs", "KVM/virtio" }, { "vioinput", "KVM/virtio" },
    { "pvpanic", "KVM/virtio" }, { "virtio", "KVM/virtio" }, { "qemu_fw_cfg", "KVM/virtio" }, { "fwcfg", "KVM/virtio" },
    { "vmci", "VMware" }, { "vsock", "VMware" }, { "vmxnet", "VMware" }, { "vm3dmp", "VMware" },
    { "vmmouse", "VMware" }, { "vmhgfs", "VMware" }, { "vmmemctl", "VMware" }, { "pvscsi", "VMware" },
    { "vmw_", "VMware" }, { "vmusbmouse", "VMware" },
    { "vboxguest", "VirtualBox" }, { "vboxsf", "VirtualBox" }, { "vboxmouse", "VirtualBox" },
    { "vboxvideo", "VirtualBox" }, { "vboxwddm", "VirtualBox" },
};

const char *cl_fingerprint_driver_platform(const char *name)
{
    if (!strncasecmp(name, "dump_", 5))
        name += 5;
    const char *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++) {
        size_t n = strlen(drivers[i].prefix);
        if (!strncasecmp(name, drivers[i].prefix, n) && n > best_len) {
            best = drivers[i].platform;
            best_len = n;
        }
    }
    /* "vsock" alone is generic on Linux; only the VMware-era Windows driver counts */
    if (best && !strcasecmp(best, "VMware") && !strncasecmp(name, "vsock", 5) && !strcasestr(name, ".sys"))
        return NULL;
    return best;
}

typedef struct {
    json_object *drivers;
    json_object *platforms;
} driver_acc;

static void add_driver(driver_acc *a, const char *name, const char *source)
{
    const char *plat = cl_fingerprint_driver_platform(name);
    if (!plat)
        return;
    json_object *d = json_object_new_object();
    json_object_object_add(d, "name", json_object_new_string(name));
    json_object_object_add(d, "platform", json_object_new_string(plat));
    json_object_object_add(d, "source", json_object_new_string(source));
    json_object_array_add(a->drivers, d);
    for (size_t i = 0; i < json_object_array_length(a->platforms); i++)
        if (!strcmp(json_object_get_string(json_object_array_get_idx(a->platforms, i)), plat))
            return;
    json_object_array_add(a->platforms, json_object_new_string(plat));
}

static json_object *smbios_json(cl_physmem *m, cl_dump_notes *notes)
{
    cl_smbios s;
    cl_error *err = NULL;
    if (!cl_smbios_find(m, &s, &err)) {
        cl_dump_note_error(notes, &err, "fingerprint");
        return NULL;
    }
    json_object *o = json_object_new_object();
    char ver[16];
    snprintf(ver, sizeof(ver), "%u.%u", s.major, s.minor);
    json_object_object_add(o, "entry_point", json_object_new_string(s.anchor));
    json_object_object_add(o, "entry_address", cl_json_hex(s.entry_address));
    json_object_object_add(o, "version", json_object_new_string(ver));
    json_object_object_add(o, "table_address", cl_json_hex(s.table_address));
#define S(obj, key, v) json_object_object_add(obj, key, (v)[0] ? json_object_new_string(v) : NULL)
    json_object *b = json_object_new_object();
    S(b, "vendor", s.bios_vendor);
    S(b, "version", s.bios_version);
    S(b, "release_date", s.bios_date);
    json_object_object_add(o, "bios", s.have_bios ? b : NULL);
    if (!s.have_bios)
        json_object_put(b);
    json_object *y = json_object_new_object();
    S(y, "manufacturer", s.manufacturer);
    S(y, "product", s.product);
    S(y, "version", s.version);
    S(y, "serial", s.serial);
    S(y, "uuid", s.uuid);
    S(y, "sku", s.sku);
    S(y, "family", s.family);
#undef S
    json_object_object_add(o, "system", s.have_system ? y : NULL);
    if (!s.have_system)
        json_object_put(y);
    return o;
}

/* A value printed after key on a kernel log line ("Hypervisor detected: KVM"). */
static bool log_value(const char *log, const char *key, char *out, size_t len)
{
    const char *p = log ? strstr(log, key) : NULL;
    if (!p)
        return false;
    p += strlen(key);
    size_t k = 0;
    while (*p && *p != '\n' && k + 1 < len)
        out[k++] = *p++;
    out[k] = '\0';
    return k > 0;
}

static void linux_modules(const char *log, driver_acc *a)
{
    char line[2048];
    if (!log_value(log, "Modules linked in: ", line, sizeof(line)))
        return;
    for (char *save = NULL, *w = strtok_r(line, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        char *paren = strchr(w, '(');
        if (paren)
            *paren = '\0';
        add_driver(a, w, "kernel log: Modules linked in");
    }
}

static void fingerprint_linux(cl_reader *r, json_object *o, driver_acc *a, cl_error **errp, bool *ok)
{
    CL_AUTOPTR(cl_ldump) d = cl_ldump_open(r, errp);
    if (!d) {
        *ok = false;
        return;
    }
    json_object_object_add(o, "format", json_object_new_string(d->elf ? "elf-vmcore" : "kdump"));
    json_object_object_add(o, "smbios", smbios_json(d->mem, d->notes));
    char *log = NULL;
    size_t len = 0;
    cl_error *err = NULL;
    if (d->vmci && !cl_printk_read(&d->kmem, d->vmci, &log, &len, d->notes, &err))
        cl_dump_note_error(d->notes, &err, "fingerprint: kernel log");
    char hv[128], dmi[256];
    json_object *h = json_object_new_object();
    bool have_hv = log_value(log, "Hypervisor detected: ", hv, sizeof(hv));
    json_object_object_add(h, "name", have_hv ? json_object_new_string(hv) : NULL);
    json_object_object_add(h, "source", json_object_new_string(log ? "kernel log" : "none"));
    if (log_value(log, "] DMI: ", dmi, sizeof(dmi)))
        json_object_object_add(h, "dmi", json_object_new_string(dmi));
    json_object_object_add(o, "hypervisor", h);
    linux_modules(log, a);
    free(log);
    cl_json_add_notes(o, d->notes);
}

static void fingerprint_windows(cl_reader *r, json_object *o, driver_acc *a, cl_error **errp, bool *ok)
{
    CL_AUTOPTR(cl_windump) d = cl_windump_open(r, errp);
    if (!d) {
        *ok = false;
        return;
    }
    json_object_object_add(o, "format", json_object_new_string(d->is64 ? "windows-pagedu64" : "windows-pagedump"));
    if (d->have_bitmap || d->nruns) {
        cl_physmem *m = calloc(1, sizeof(*m));
        if (m) {
            cl_windump_physmem(d, m);
            json_object_object_add(o, "smbios", smbios_json(m, &d->notes));
            free(m);
        }
    } else {
        json_object_object_add(o, "smbios", NULL);
    }
    /* Windows keeps no log in the dump: the hypervisor shows through its drivers */
    json_object *h = json_object_new_object();
    json_object_object_add(h, "name", NULL);
    json_object_object_add(h, "source", json_object_new_string("loaded modules"));
    json_object_object_add(o, "hypervisor", h);
    for (size_t i = 0; i < d->nmodules; i++)
        add_driver(a, d->modules[i].name, "loaded modules");
    if (json_object_array_length(a->platforms) == 1)
        json_object_object_add(h, "name", json_object_get(json_object_array_get_idx(a->platforms, 0)));
    cl_json_add_notes(o, &d->notes);
}

bool cl_dump_fingerprint_reader(cl_reader *r, json_object **out, cl_error **errp)
{
    unsigned char head[16] = { 0 };
    size_t n = cl_reader_size(r) < sizeof(head) ? (size_t)cl_reader_size(r) : sizeof(head);
    if (!cl_reader_read(r, 0, n, head, errp))
        return false;
    json_object *o = json_object_new_object();
    driver_acc a = { json_object_new_array(), json_object_new_array() };
    bool ok = true;
    if (cl_windump_probe(head, n)) {
        fingerprint_windows(r, o, &a, errp, &ok);
    } else if (cl_elfcore_probe(head, n) || cl_kdump_probe(head, n)) {
        fingerprint_linux(r, o, &a, errp, &ok);
    } else {
        cl_error_set(errp, CL_ERR_FORMAT,
                     "not a dump: expected PAGEDUMP/PAGEDU64, \\x7fELF, KDUMP or makedumpfile at offset 0");
        ok = false;
    }
    if (!ok) {
        json_object_put(o);
        json_object_put(a.drivers);
        json_object_put(a.platforms);
        return false;
    }
    json_object_object_add(o, "virtualization_drivers", a.drivers);
    json_object_object_add(o, "platforms", a.platforms);
    *out = o;
    return true;
}

bool cl_dump_fingerprint(const char *path, json_object **out, cl_error **errp)
{
    CL_AUTOPTR(cl_reader) r = cl_reader_open_file(path, errp);
    if (!r)
        return false;
    return cl_dump_fingerprint_reader(r, out, errp);
}
