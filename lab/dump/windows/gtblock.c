/* gtblock.c - finding and checking labfault.sys's ground-truth block in a Windows dump.
 * The block is guest data: every field is checked before it is believed. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "catalogue.h"
#include "dump/windows/gtblock.h"

bool cl_gtblock_parse(const unsigned char *buf, size_t len, struct labfault_gt_block *out)
{
    struct labfault_gt_block b;
    if (len < sizeof(b) || memcmp(buf, LABFAULT_GT_MAGIC, 8))
        return false;
    memcpy(&b, buf, sizeof(b));
    if (b.size != sizeof(b) || b.checksum != labfault_gt_checksum(&b) || b.truth.abi_version != LABFAULT_ABI_VERSION ||
        b.truth.count > LABFAULT_MAX_ITEMS || b.nframes > LABFAULT_GT_MAX_FRAMES)
        return false;
    for (uint32_t i = 0; i < b.truth.count; i++)
        if (!memchr(b.truth.item[i].name, 0, sizeof(b.truth.item[i].name)))
            return false;
    *out = b;
    return true;
}

typedef struct {
    cl_windump *d;
    cl_gtblock *best;
    bool found;
    unsigned char page[4096];
} scan_ctx;

static bool scan_page(void *ctx, uint64_t pfn)
{
    scan_ctx *x = ctx;
    if (!cl_windump_read_page(x->d, pfn, x->page, NULL))
        return true;
    for (uint32_t off = 0; off + sizeof(struct labfault_gt_block) <= sizeof(x->page); off += 8) {
        struct labfault_gt_block b;
        if (x->page[off] != 'C' || !cl_gtblock_parse(x->page + off, sizeof(x->page) - off, &b))
            continue;
        if (!x->found || b.sequence > x->best->block.sequence) {
            x->best->block = b;
            x->best->pfn = pfn;
            x->best->offset = off;
            x->found = true;
        }
    }
    return true;
}

bool cl_gtblock_find(cl_windump *d, cl_gtblock *out)
{
    static scan_ctx x;   /* 4 KiB page buffer: not on the stack */
    cl_gtblock best;
    memset(&x, 0, sizeof(x));
    x.d = d;
    x.best = &best;
    cl_windump_each_page(d, scan_page, &x);
    if (x.found)
        *out = best;
    return x.found;
}

static json_object *hex(uint64_t v)
{
    char s[24];
    snprintf(s, sizeof(s), "0x%" PRIx64, v);
    return json_object_new_string(s);
}

json_object *cl_gtblock_json(const cl_gtblock *g)
{
    static const char *const states[] = { "idle", "armed", "fired", "done" };
    const struct labfault_gt_block *b = &g->block;
    const cl_fault *f = cl_fault_by_number(b->truth.fault);
    json_object *o = json_object_new_object(), *items = json_object_new_object(), *frames = json_object_new_array();
    json_object_object_add(o, "fault", json_object_new_string(f ? f->id : "none"));
    json_object_object_add(o, "state", json_object_new_string(b->truth.state < 4 ? states[b->truth.state] : "unknown"));
    for (uint32_t i = 0; i < b->truth.count; i++)
        json_object_object_add(items, b->truth.item[i].name, hex(b->truth.item[i].value));
    json_object_object_add(o, "items", items);
    for (uint32_t i = 0; i < b->nframes; i++)
        json_object_array_add(frames, hex(b->frames[i]));
    json_object_object_add(o, "fire_frames", frames);
    json_object_object_add(o, "address", hex(b->self));
    json_object_object_add(o, "sequence", json_object_new_int64((int64_t)b->sequence));
    json_object_object_add(o, "physical_address", hex(g->pfn * 4096 + g->offset));
    return o;
}
