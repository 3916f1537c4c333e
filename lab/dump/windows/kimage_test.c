/* kimage_test.c - ntoskrnl's identity read through a synthetic x64 full dump's page tables,
 * and the ways a hostile dump lies about it (every one must end in a reason, not a read
 * past a buffer). The real PE case (labfault.sys against llvm-readobj) is in
 * tests/integration/windows_wine.sh. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dump/reader.h"
#include "dump/windows/kimage.h"
#include "dump/windows/windump.h"

#define KB 0xfffff80412000000ull
#define LDR (KB + 0x100000ull)
enum { PML4, PDPT, PD, PT, LDRP, IMG0, IMG1, NPAGES };
static const uint64_t pfn_of[NPAGES] = { 0x10, 0x11, 0x12, 0x13, 0x14, 0x100, 0x101 };

typedef struct {
    unsigned char hdr[0x2000];
    unsigned char page[NPAGES][4096];
} dumpfile;

static void p16(unsigned char *p, uint16_t v) { memcpy(p, &v, 2); }
static void p32(unsigned char *p, uint32_t v) { memcpy(p, &v, 4); }
static void p64(unsigned char *p, uint64_t v) { memcpy(p, &v, 8); }

static const unsigned char guid[16] = { 0xb4, 0xae, 0x4e, 0x45, 0xc7, 0xdc, 0xc1, 0x62,
                                        0x4c, 0x4c, 0x44, 0x20, 0x50, 0x44, 0x42, 0x2e };

static void build(dumpfile *f)
{
    memset(f, 0, sizeof(*f));
    for (int i = 0; i < 0x2000; i += 4)
        memcpy(f->hdr + i, "PAGE", 4);
    memcpy(f->hdr + 4, "DU64", 4);
    p32(f->hdr + 0x08, 15);
    p32(f->hdr + 0x0c, 19041);
    p64(f->hdr + 0x10, pfn_of[PML4] << 12);
    p64(f->hdr + 0x18, 0);
    p64(f->hdr + 0x20, LDR);
    p32(f->hdr + 0x30, 0x8664);
    p32(f->hdr + 0x34, 1);
    p32(f->hdr + 0x38, 0xe2);
    p32(f->hdr + 0x88, 2);
    p64(f->hdr + 0x90, NPAGES);
    p64(f->hdr + 0x98, 0x10);
    p64(f->hdr + 0xa0, 5);
    p64(f->hdr + 0xa8, 0x100);
    p64(f->hdr + 0xb0, 2);
    p32(f->hdr + 0xf98, 1);
    p64(f->hdr + 0xfa0, sizeof(*f));
    p64(f->page[PML4] + 8 * ((KB >> 39) & 511), pfn_of[PDPT] << 12 | 3);
    p64(f->page[PDPT] + 8 * ((KB >> 30) & 511), pfn_of[PD] << 12 | 3);
    p64(f->page[PD] + 8 * ((KB >> 21) & 511), pfn_of[PT] << 12 | 3);
    p64(f->page[PT] + 8 * ((KB >> 12) & 511), pfn_of[IMG0] << 12 | 3);
    p64(f->page[PT] + 8 * (((KB >> 12) & 511) + 1), pfn_of[IMG1] << 12 | 3);
    p64(f->page[PT] + 8 * ((LDR >> 12) & 511), pfn_of[LDRP] << 12 | 3);
    unsigned char *l = f->page[LDRP];
    p64(l, LDR + 0x100);
    p64(l + 0x100, LDR);
    p64(l + 0x100 + 0x30, KB);
    p32(l + 0x100 + 0x40, 0x2000);
    const char *name = "ntoskrnl.exe";
    p16(l + 0x100 + 0x58, (uint16_t)(2 * strlen(name)));
    p16(l + 0x100 + 0x5a, (uint16_t)(2 * strlen(name)));
    p64(l + 0x100 + 0x60, LDR + 0x400);
    for (size_t i = 0; name[i]; i++)
        l[0x400 + 2 * i] = (unsigned char)name[i];
    /* The image: headers in its first page, the debug directory and RSDS record in its second. */
    unsigned char *h = f->page[IMG0], *s = f->page[IMG1];
    memcpy(h, "MZ", 2);
    p32(h + 0x3c, 0x80);
    memcpy(h + 0x80, "PE\0\0", 4);
    p16(h + 0x84, 0x8664);
    p32(h + 0x88, 0x5f0d1e2a);      /* TimeDateStamp */
    p16(h + 0x94, 240);             /* SizeOfOptionalHeader */
    unsigned char *opt = h + 0x98;
    p16(opt, 0x20b);
    p32(opt + 56, 0x2000);          /* SizeOfImage */
    p32(opt + 108, 16);             /* NumberOfRvaAndSizes */
    p32(opt + 112 + 6 * 8, 0x1000); /* debug directory */
    p32(opt + 112 + 6 * 8 + 4, 28);
    p32(s + 12, 2);                 /* CodeView */
    p32(s + 16, 24 + 13);
    p32(s + 20, 0x1100);
    memcpy(s + 0x100, "RSDS", 4);
    memcpy(s + 0x104, guid, 16);
    p32(s + 0x114, 3);
    memcpy(s + 0x118, "ntkrnlmp.pdb", 13);
}

static void read_it(dumpfile *f, cl_win_kimage *k)
{
    CL_AUTOPTR(cl_reader) r = cl_reader_open_mem(f, sizeof(*f), NULL);
    CL_AUTOPTR(cl_windump) d = r ? cl_windump_open(r, NULL) : NULL;
    CHECK(d != NULL);
    memset(k, 0, sizeof(*k));
    if (d)
        cl_win_kimage_read(d, k);
}

static void test_good(void)
{
    static dumpfile f;
    build(&f);
    cl_win_kimage k;
    read_it(&f, &k);
    CHECK(k.have_image && k.have_pdb);
    CHECK_STR(k.name, "ntoskrnl.exe");
    CHECK(k.base == KB && k.size_of_image == 0x2000 && k.timestamp == 0x5f0d1e2a);
    CHECK_STR(k.pdb_name, "ntkrnlmp.pdb");
    CHECK(!memcmp(k.guid, guid, 16) && k.age == 3);
    json_object *o = cl_win_kimage_json(&k);
    CHECK_STR(json_object_get_string(json_object_object_get(o, "image_key")), "ntoskrnl.exe/5F0D1E2A2000/ntoskrnl.exe");
    json_object *p = json_object_object_get(o, "pdb");
    CHECK_STR(json_object_get_string(json_object_object_get(p, "guid")), "454EAEB4-DCC7-62C1-4C4C-44205044422E");
    CHECK_STR(json_object_get_string(json_object_object_get(p, "symbol_key")),
              "ntkrnlmp.pdb/454EAEB4DCC762C14C4C44205044422E3/ntkrnlmp.pdb");
    json_object_put(o);
}

/* Each lie, and the start of the reason it must give. */
static void test_hostile(void)
{
    static dumpfile f;
    cl_win_kimage k;
    struct { int page; size_t off; uint32_t v; int width; const char *why; } lies[] = {
        { IMG1, 16, 0x10000, 4, "ntoskrnl's CodeView entry has an impossible size" },      /* SizeOfData */
        { IMG1, 20, 0x1ff0, 4, "ntoskrnl's CodeView entry has an impossible size" },       /* record past the image */
        { IMG1, 0x100, 0x53445351, 4, "ntoskrnl's CodeView record is not RSDS" },
        { IMG1, 0x118 + 12, 'x', 1, "ntoskrnl's CodeView record has no terminated PDB name" },
        { IMG0, 0x3c, 0xffff0000u, 4, "no PE image at ntoskrnl's base" },
        { IMG0, 0x98 + 112 + 48, 0x7ffff000u, 4, "ntoskrnl's debug directory lies outside the image" },
        { LDRP, 0, 0x1000, 4, "PsLoadedModuleList or its first entry is not in the dump" }, /* Flink unmapped */
        { LDRP, 0x130, 0x1234, 4, "the first loader entry has an impossible DllBase" },
        { PT, 8 * ((KB >> 12) & 511), 0, 4, "the page at ntoskrnl's base is not in the dump" },
    };
    for (size_t i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
        build(&f);
        unsigned char *p = f.page[lies[i].page] + lies[i].off;
        if (lies[i].width == 1)
            *p = (unsigned char)lies[i].v;
        else
            p32(p, lies[i].v);
        read_it(&f, &k);
        CHECK(!k.have_pdb);
        CHECK(!strncmp(k.why, lies[i].why, strlen(lies[i].why)));
        if (strncmp(k.why, lies[i].why, strlen(lies[i].why)))
            fprintf(stderr, "# lie %zu: got '%s'\n", i, k.why);
    }
    /* A page-table loop: every level points back at the top table; the walk is bounded. */
    build(&f);
    p64(f.page[PML4] + 8 * ((KB >> 39) & 511), pfn_of[PML4] << 12 | 3);
    read_it(&f, &k);
    CHECK(!k.have_pdb && k.why[0]);
}

/* The longest PDB name a record can hold gives a whole symbol key, not a cut one. */
static void test_long_pdb_name(void)
{
    static dumpfile f;
    build(&f);
    cl_win_kimage k;
    read_it(&f, &k);
    memset(k.pdb_name, 'p', sizeof(k.pdb_name) - 1);
    k.pdb_name[sizeof(k.pdb_name) - 1] = '\0';
    json_object *o = cl_win_kimage_json(&k);
    const char *key = json_object_get_string(json_object_object_get(json_object_object_get(o, "pdb"), "symbol_key"));
    size_t want = 2 * (sizeof(k.pdb_name) - 1) + 2 + 32 + 1;   /* name/GUID+age/name */
    CHECK(key && strlen(key) == want);
    CHECK(key && key[strlen(key) - 1] == 'p');
    json_object_put(o);
}

int main(void)
{
    RUN_TEST(test_good);
    RUN_TEST(test_long_pdb_name);
    RUN_TEST(test_hostile);
    TEST_EXIT();
}
