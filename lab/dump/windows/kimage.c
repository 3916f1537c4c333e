/* kimage.c - see kimage.h. */
#include "dump/windows/kimage.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dump/le.h"
#include "dump/linux/kmem.h" /* the x86-64 page walk is the same whichever kernel built the tables */
#include "dump/inspect_priv.h"

/* _KLDR_DATA_TABLE_ENTRY on x64 (every Windows since Vista). */
#define LDR_DLLBASE 0x30
#define LDR_SIZEOFIMAGE 0x40
#define LDR_BASEDLLNAME 0x58
#define MAX_HEADERS 0x1000u
#define MAX_DEBUG_ENTRIES 16u
#define CV_MAX 512u

static void why(cl_win_kimage *k, const char *msg)
{
    snprintf(k->why, sizeof(k->why), "%s", msg);
}

/* Records why and leaves the reading function. */
#define FAIL(k, msg) \
    do { \
        why(k, msg); \
        return; \
    } while (0)

static bool kread(cl_kmem *km, uint64_t va, void *buf, size_t len)
{
    cl_error *e = NULL;
    bool ok = cl_kmem_read(km, va, buf, len, &e);
    cl_error_free(e);
    return ok;
}

static void read_name(cl_kmem *km, const unsigned char *ustr, char *out, size_t outlen)
{
    uint16_t len = cl_le16(ustr);
    uint64_t buf = cl_le64(ustr + 8);
    unsigned char w[190];
    out[0] = '\0';
    if (!len || len % 2 || len > sizeof(w) || !kread(km, buf, w, len))
        return;
    size_t n = 0;
    for (size_t i = 0; i + 1 < len && n + 1 < outlen; i += 2) {
        uint16_t c = cl_le16(w + i);
        out[n++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    out[n] = '\0';
}

/* The PE at k->base: TimeDateStamp, SizeOfImage, then the debug directory's CodeView entry. */
static void read_pe(cl_kmem *km, cl_win_kimage *k)
{
    unsigned char h[MAX_HEADERS];
    if (!kread(km, k->base, h, sizeof(h)))
        FAIL(k, "the page at ntoskrnl's base is not in the dump");
    uint32_t lfanew = cl_le32(h + 0x3c);
    if (memcmp(h, "MZ", 2) || lfanew > MAX_HEADERS - 24 - 240 || memcmp(h + lfanew, "PE\0\0", 4))
        FAIL(k, "no PE image at ntoskrnl's base (MZ/PE signature)");
    const unsigned char *fh = h + lfanew + 4, *opt = fh + 20;
    uint16_t optsize = cl_le16(fh + 16);
    if (cl_le16(opt) != 0x20b || optsize < 112 + 7 * 8)
        FAIL(k, "ntoskrnl's optional header is not PE32+ or has no debug directory");
    uint32_t stamp = cl_le32(fh + 4), size = cl_le32(opt + 56);
    if (k->timestamp && stamp != k->timestamp)
        FAIL(k, "the PE header's TimeDateStamp disagrees with the loader entry's");
    k->timestamp = stamp;
    if (!k->size_of_image)
        k->size_of_image = size;
    uint32_t nrva = cl_le32(opt + 108);
    uint32_t drva = cl_le32(opt + 112 + 6 * 8), dsize = cl_le32(opt + 112 + 6 * 8 + 4);
    if (nrva <= 6 || !drva || !dsize)
        FAIL(k, "ntoskrnl's PE has no debug directory");
    uint32_t n = dsize / 28;
    if (n > MAX_DEBUG_ENTRIES)
        n = MAX_DEBUG_ENTRIES;
    if ((uint64_t)drva + (uint64_t)n * 28 > k->size_of_image)
        FAIL(k, "ntoskrnl's debug directory lies outside the image");
    for (uint32_t i = 0; i < n; i++) {
        unsigned char e[28];
        if (!kread(km, k->base + drva + i * 28, e, sizeof(e)))
            FAIL(k, "ntoskrnl's debug directory is not in the dump");
        uint32_t type = cl_le32(e + 12), cvsize = cl_le32(e + 16), cvrva = cl_le32(e + 20);
        if (type != 2) /* IMAGE_DEBUG_TYPE_CODEVIEW */
            continue;
        if (cvsize < 24 + 2 || cvsize > CV_MAX || (uint64_t)cvrva + cvsize > k->size_of_image)
            FAIL(k, "ntoskrnl's CodeView entry has an impossible size or address");
        unsigned char cv[CV_MAX];
        if (!kread(km, k->base + cvrva, cv, cvsize))
            FAIL(k, "the page holding ntoskrnl's CodeView record is not in the dump");
        if (memcmp(cv, "RSDS", 4))
            FAIL(k, "ntoskrnl's CodeView record is not RSDS (PDB 7.0)");
        size_t nl = strnlen((const char *)cv + 24, cvsize - 24);
        if (nl == cvsize - 24 || !nl || nl >= sizeof(k->pdb_name))
            FAIL(k, "ntoskrnl's CodeView record has no terminated PDB name");
        for (size_t j = 0; j < nl; j++)
            if (cv[24 + j] < 0x20 || cv[24 + j] > 0x7e)
                FAIL(k, "ntoskrnl's PDB name is not printable");
        memcpy(k->guid, cv + 4, 16);
        k->age = cl_le32(cv + 20);
        memcpy(k->pdb_name, cv + 24, nl);
        k->pdb_name[nl] = '\0';
        k->have_pdb = true;
        k->why[0] = '\0';
        return;
    }
    why(k, "ntoskrnl's debug directory has no CodeView entry");
}

void cl_win_kimage_read(cl_windump *d, cl_win_kimage *k)
{
    memset(k, 0, sizeof(*k));
    if (d->have_triage && d->nmodules) {
        /* The triage driver list opens with the kernel, as the loader's list does. */
        const cl_win_module *m = &d->modules[0];
        snprintf(k->name, sizeof(k->name), "%s", m->name);
        snprintf(k->source, sizeof(k->source), "triage driver list");
        k->base = m->base;
        k->size_of_image = m->size;
        k->timestamp = m->timestamp;
        k->have_image = true;
        FAIL(k, "a triage dump holds no page of ntoskrnl's image, so not its CodeView record");
    }
    if (!d->is64 || d->machine != CL_WIN_MACHINE_AMD64 || !(d->nruns || d->have_bitmap))
        FAIL(k, "only full and bitmap x64 dumps map kernel memory");
    if (!d->directory_table_base || !d->ps_loaded_module_list)
        FAIL(k, "the header gives no DirectoryTableBase or PsLoadedModuleList");
    cl_physmem pm;
    cl_windump_physmem(d, &pm);
    cl_kmem km;
    cl_kmem_init(&km, &pm, NULL, d->directory_table_base);
    unsigned char flink[8], ent[LDR_BASEDLLNAME + 16];
    if (!kread(&km, d->ps_loaded_module_list, flink, 8) || !kread(&km, cl_le64(flink), ent, sizeof(ent)))
        FAIL(k, "PsLoadedModuleList or its first entry is not in the dump");
    k->base = cl_le64(ent + LDR_DLLBASE);
    k->size_of_image = cl_le32(ent + LDR_SIZEOFIMAGE);
    read_name(&km, ent + LDR_BASEDLLNAME, k->name, sizeof(k->name));
    snprintf(k->source, sizeof(k->source), "PsLoadedModuleList");
    if (!k->base || k->base & 0xfff || !k->size_of_image || k->size_of_image > (1u << 30))
        FAIL(k, "the first loader entry has an impossible DllBase or SizeOfImage");
    k->have_image = true;
    read_pe(&km, k);
}

json_object *cl_win_kimage_json(const cl_win_kimage *k)
{
    json_object *o = json_object_new_object();
    if (!k->have_image) {
        json_object_object_add(o, "why", json_object_new_string(k->why));
        return o;
    }
    /* Room for the longest names the dump can hold (name 95, PDB base name 255), twice. */
    char key[2 * sizeof(k->pdb_name) + 64];
    json_object_object_add(o, "name", json_object_new_string(k->name[0] ? k->name : "ntoskrnl.exe"));
    json_object_object_add(o, "source", json_object_new_string(k->source));
    json_object_object_add(o, "base", cl_json_hex(k->base));
    json_object_object_add(o, "size_of_image", cl_json_hex(k->size_of_image));
    json_object_object_add(o, "timestamp", cl_json_hex(k->timestamp));
    /* The symbol server's path for the binary: FILE/TIMESTAMP(%08X)SIZEOFIMAGE(%x)/FILE. */
    snprintf(key, sizeof(key), "%s/%08" PRIX32 "%" PRIx32 "/%s", k->name[0] ? k->name : "ntoskrnl.exe", k->timestamp,
             k->size_of_image, k->name[0] ? k->name : "ntoskrnl.exe");
    json_object_object_add(o, "image_key", json_object_new_string(key));
    if (!k->have_pdb) {
        json_object_object_add(o, "pdb", NULL);
        json_object_object_add(o, "pdb_why", json_object_new_string(k->why));
        return o;
    }
    const unsigned char *g = k->guid;
    char guid[40], sig[33];
    snprintf(guid, sizeof(guid), "%08" PRIX32 "-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X", cl_le32(g), cl_le16(g + 4),
             cl_le16(g + 6), g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
    /* The symbol server's signature is the same GUID without its dashes. */
    size_t n = 0;
    for (const char *c = guid; *c; c++)
        if (*c != '-')
            sig[n++] = *c;
    sig[n] = '\0';
    json_object *p = json_object_new_object();
    /* The record may hold a full build path; the symbol server is keyed by the base name. */
    const char *base = k->pdb_name;
    for (const char *c = k->pdb_name; *c; c++)
        if (*c == '\\' || *c == '/')
            base = c + 1;
    json_object_object_add(p, "name", json_object_new_string(base));
    if (base != k->pdb_name)
        json_object_object_add(p, "path", json_object_new_string(k->pdb_name));
    json_object_object_add(p, "guid", json_object_new_string(guid));
    json_object_object_add(p, "age", json_object_new_int64(k->age));
    snprintf(key, sizeof(key), "%s/%s%" PRIX32 "/%s", base, sig, k->age, base);
    json_object_object_add(p, "symbol_key", json_object_new_string(key));
    json_object_object_add(o, "pdb", p);
    return o;
}
