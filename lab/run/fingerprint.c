#include <stdio.h>
#include <string.h>

#include "fingerprint.h"

static void add_str(json_object *o, const char *k, const char *v)
{
    json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

json_object *cl_fp_host(const cl_domxml_opts *dx, const cl_smbios *e, const char *accel, const char *libvirt_version,
                        const char *qemu_version)
{
    json_object *h = json_object_new_object();
    add_str(h, "libvirt_version", libvirt_version);
    add_str(h, "qemu_version", qemu_version);
    add_str(h, "machine", dx->profile == CL_PROFILE_WINDOWS ? "q35" : "pc");
    add_str(h, "accelerator", accel);
    add_str(h, "cpu_model", dx->profile == CL_PROFILE_WINDOWS && dx->cpu_model ? dx->cpu_model
                                                                              : "QEMU default (qemu64 under TCG, host model under KVM)");
    add_str(h, "firmware", dx->profile == CL_PROFILE_WINDOWS && dx->firmware == CL_FIRMWARE_UEFI ? "uefi (OVMF)" : "bios (SeaBIOS)");
    json_object *hv = json_object_new_array();
    for (int f = 0; f < CL_HV_LAST && dx->profile == CL_PROFILE_WINDOWS; f++)
        if (dx->hv_mask & (1u << f))
            json_object_array_add(hv, json_object_new_string(cl_hv_feature_to_string((cl_hv_feature)f)));
    json_object_object_add(h, "hyperv_features", hv);
    json_object *sm = json_object_new_object(), *bios = json_object_new_object(), *sys = json_object_new_object();
    add_str(bios, "vendor", e->bios_vendor);
    add_str(bios, "version", e->bios_version);
    add_str(sys, "manufacturer", e->manufacturer);
    add_str(sys, "product", e->product);
    add_str(sys, "version", e->version);
    add_str(sys, "serial", e->serial);
    add_str(sys, "family", e->family);
    add_str(sys, "sku", e->sku);
    json_object_object_add(sm, "bios", bios);
    json_object_object_add(sm, "system", sys);
    json_object_object_add(h, "smbios", sm);
    return h;
}

static const char *get2(json_object *o, const char *a, const char *b, const char *c)
{
    json_object *x = NULL;
    if (!json_object_object_get_ex(o, a, &x) || !json_object_object_get_ex(x, b, &x))
        return NULL;
    if (c && !json_object_object_get_ex(x, c, &x))
        return NULL;
    return json_object_is_type(x, json_type_string) ? json_object_get_string(x) : NULL;
}

json_object *cl_fp_compare(json_object *host, json_object *guest)
{
    json_object *out = json_object_new_object(), *mism = json_object_new_array();
    static const char *const fields[][2] = {
        { "bios", "vendor" }, { "bios", "version" }, { "system", "manufacturer" }, { "system", "product" },
        { "system", "version" }, { "system", "serial" }, { "system", "family" }, { "system", "sku" },
    };
    json_object *gsm = NULL;
    bool have_smbios = guest && json_object_object_get_ex(guest, "smbios", &gsm) && json_object_is_type(gsm, json_type_object);
    if (!have_smbios)
        json_object_array_add(mism, json_object_new_string("the dump holds no SMBIOS table"));
    for (size_t i = 0; have_smbios && i < sizeof(fields) / sizeof(fields[0]); i++) {
        const char *h = get2(host, "smbios", fields[i][0], fields[i][1]);
        const char *g = get2(guest, "smbios", fields[i][0], fields[i][1]);
        if (!h && !g)
            continue;
        if (!h || !g || strcmp(h, g)) {
            char m[512];
            snprintf(m, sizeof(m), "smbios %s.%s: host configured '%s', the guest's memory says '%s'", fields[i][0],
                     fields[i][1], h ? h : "(nothing)", g ? g : "(nothing)");
            json_object_array_add(mism, json_object_new_string(m));
        }
    }
    /* Under KVM the guest kernel detects and logs its hypervisor; under TCG there is none to see. */
    json_object *acc = NULL;
    const char *gh = get2(guest, "hypervisor", "name", NULL);
    if (json_object_object_get_ex(host, "accelerator", &acc) && !strcmp(json_object_get_string(acc), "kvm") && gh &&
        !strstr(gh, "KVM") && !strstr(gh, "Microsoft")) {
        char m[256];
        snprintf(m, sizeof(m), "hypervisor: host ran KVM, the guest detected '%s'", gh);
        json_object_array_add(mism, json_object_new_string(m));
    }
    json_object_object_add(out, "host", json_object_get(host));
    json_object_object_add(out, "guest", json_object_get(guest));
    json_object_object_add(out, "agree", json_object_new_boolean(json_object_array_length(mism) == 0));
    json_object_object_add(out, "mismatches", mism);
    return out;
}
