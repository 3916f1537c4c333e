#include "dump/linux/printk.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "dump/le.h"
#include "dump/linux/vmcoreinfo.h"
#include "util/buf.h"

/* kernel/printk/printk_ringbuffer.h: the state lives in the top two bits of state_var. */
#define DESC_SV_BITS 64
#define DESC_FLAGS_SHIFT (DESC_SV_BITS - 2)
#define DESC_ID_MASK (~(3ull << DESC_FLAGS_SHIFT))
#define DESC_COMMITTED 1
#define DESC_FINALIZED 2
#define LPOS_DATALESS(lpos) ((lpos) & 1ull)

typedef struct {
    uint64_t off_desc_ring, off_text_ring;
    uint64_t dr_count_bits, dr_descs, dr_infos, dr_head_id, dr_tail_id;
    uint64_t sz_desc, d_state_var, d_text_blk_lpos, lpos_begin, lpos_next;
    uint64_t sz_info, i_seq, i_ts_nsec, i_text_len;
    uint64_t tr_size_bits, tr_data;
    uint64_t counter; /* atomic_long_t.counter */
} prb_layout;

static bool layout_load(const char *v, prb_layout *l, cl_error **errp)
{
    struct { const char *key; uint64_t *dst; bool size; } fields[] = {
        { "printk_ringbuffer.desc_ring", &l->off_desc_ring, false },
        { "printk_ringbuffer.text_data_ring", &l->off_text_ring, false },
        { "prb_desc_ring.count_bits", &l->dr_count_bits, false },
        { "prb_desc_ring.descs", &l->dr_descs, false },
        { "prb_desc_ring.infos", &l->dr_infos, false },
        { "prb_desc_ring.head_id", &l->dr_head_id, false },
        { "prb_desc_ring.tail_id", &l->dr_tail_id, false },
        { "prb_desc", &l->sz_desc, true },
        { "prb_desc.state_var", &l->d_state_var, false },
        { "prb_desc.text_blk_lpos", &l->d_text_blk_lpos, false },
        { "prb_data_blk_lpos.begin", &l->lpos_begin, false },
        { "prb_data_blk_lpos.next", &l->lpos_next, false },
        { "printk_info", &l->sz_info, true },
        { "printk_info.seq", &l->i_seq, false },
        { "printk_info.ts_nsec", &l->i_ts_nsec, false },
        { "printk_info.text_len", &l->i_text_len, false },
        { "prb_data_ring.size_bits", &l->tr_size_bits, false },
        { "prb_data_ring.data", &l->tr_data, false },
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        bool ok = fields[i].size ? cl_vmci_size(v, fields[i].key, fields[i].dst)
                                 : cl_vmci_offset(v, fields[i].key, fields[i].dst);
        if (!ok)
            return cl_error_set(errp, CL_ERR_FORMAT, "printk: VMCOREINFO has no %s(%s)",
                                fields[i].size ? "SIZE" : "OFFSET", fields[i].key);
        if (*fields[i].dst > 4096)
            return cl_error_set(errp, CL_ERR_CORRUPT, "printk: VMCOREINFO %s = %" PRIu64 " is implausible",
                                fields[i].key, *fields[i].dst);
    }
    if (!cl_vmci_offset(v, "atomic_long_t.counter", &l->counter))
        l->counter = 0;
    return true;
}

/* Appends one record's text, one log line per text line, with the record's timestamp. */
static void emit(cl_buf *b, uint64_t ts_nsec, const char *text, size_t len)
{
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        cl_buf_addf(b, "[%5" PRIu64 ".%06" PRIu64 "] ", ts_nsec / 1000000000u, ts_nsec % 1000000000u / 1000u);
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)p[i];
            char ch = (c >= 0x20 && c < 0x7f) || c == '\t' ? (char)c : '?';
            cl_buf_add(b, &ch, 1);
        }
        cl_buf_add(b, "\n", 1);
        p += n + 1;
    }
}

bool cl_printk_read(cl_kmem *k, const char *vmci, char **log, size_t *loglen, cl_dump_notes *warn, cl_error **errp)
{
    prb_layout l;
    if (!layout_load(vmci, &l, errp))
        return false;
    uint64_t prb_sym, rb;
    if (!cl_vmci_symbol(vmci, "prb", &prb_sym))
        return cl_error_set(errp, CL_ERR_FORMAT, "printk: VMCOREINFO has no SYMBOL(prb) (kernel older than 5.10?)");
    if (!cl_kmem_read_u64(k, prb_sym, &rb, errp)) {
        cl_error_prefix(errp, "printk: reading the prb pointer");
        return false;
    }
    uint64_t dr = rb + l.off_desc_ring, tr = rb + l.off_text_ring;
    uint32_t count_bits, size_bits;
    uint64_t descs, infos, head, tail, data;
    if (!cl_kmem_read_u32(k, dr + l.dr_count_bits, &count_bits, errp) ||
        !cl_kmem_read_u64(k, dr + l.dr_descs, &descs, errp) || !cl_kmem_read_u64(k, dr + l.dr_infos, &infos, errp) ||
        !cl_kmem_read_u64(k, dr + l.dr_head_id + l.counter, &head, errp) ||
        !cl_kmem_read_u64(k, dr + l.dr_tail_id + l.counter, &tail, errp) ||
        !cl_kmem_read_u32(k, tr + l.tr_size_bits, &size_bits, errp) ||
        !cl_kmem_read_u64(k, tr + l.tr_data, &data, errp)) {
        cl_error_prefix(errp, "printk: reading the ring buffer at 0x%" PRIx64, rb);
        return false;
    }
    if (count_bits > 20 || size_bits > 26 || size_bits < 4)
        return cl_error_set(errp, CL_ERR_CORRUPT, "printk: ring sizes 2^%u descriptors / 2^%u bytes are implausible",
                            count_bits, size_bits);
    uint64_t ndesc = 1ull << count_bits, dsize = 1ull << size_bits;
    cl_buf b = { 0 };
    bool cut = false;
    unsigned char *text = malloc(65536);
    if (!text)
        return cl_error_set(errp, CL_ERR_NOMEM, "printk: cannot allocate");
    size_t bad = 0, records = 0;
    uint64_t id = tail & DESC_ID_MASK;
    head &= DESC_ID_MASK;
    for (uint64_t steps = 0; steps <= ndesc && steps < CL_PRINTK_MAX_RECORDS; steps++, id = (id + 1) & DESC_ID_MASK) {
        uint64_t idx = id & (ndesc - 1);
        uint64_t d = descs + idx * l.sz_desc, info = infos + idx * l.sz_info;
        uint64_t sv, begin, next, ts;
        unsigned char tl[2];
        cl_error *err = NULL;
        bool ok = cl_kmem_read_u64(k, d + l.d_state_var + l.counter, &sv, &err) &&
                  cl_kmem_read_u64(k, d + l.d_text_blk_lpos + l.lpos_begin, &begin, &err) &&
                  cl_kmem_read_u64(k, d + l.d_text_blk_lpos + l.lpos_next, &next, &err) &&
                  cl_kmem_read_u64(k, info + l.i_ts_nsec, &ts, &err) &&
                  cl_kmem_read(k, info + l.i_text_len, tl, 2, &err);
        if (!ok) {
            cl_error_free(err);
            bad++;
        } else {
            unsigned state = (unsigned)(sv >> DESC_FLAGS_SHIFT);
            uint16_t text_len = cl_le16(tl);
            if ((sv & DESC_ID_MASK) == id && (state == DESC_COMMITTED || state == DESC_FINALIZED) &&
                !LPOS_DATALESS(begin) && !LPOS_DATALESS(next)) {
                /* A block that would cross the end of the ring starts again at its beginning. */
                uint64_t boff, blen;
                if ((begin >> size_bits) == (next >> size_bits) && begin < next) {
                    boff = begin & (dsize - 1);
                    blen = next - begin;
                } else if (((begin + dsize) >> size_bits) == (next >> size_bits)) {
                    boff = 0;
                    blen = next & (dsize - 1);
                } else {
                    blen = 0;
                    boff = 0;
                }
                if (blen > 8 && blen <= dsize) {
                    size_t n = text_len < blen - 8 ? text_len : (size_t)(blen - 8);
                    if (cl_kmem_read(k, data + boff + 8, text, n, &err)) {
                        emit(&b, ts, (const char *)text, n);
                        records++;
                        if (b.len > CL_PRINTK_MAX_LOG && !b.failed) {
                            /* the panic is at the end: keep the newest half */
                            const char *keep = memchr(b.data + b.len - CL_PRINTK_MAX_LOG / 2, '\n', CL_PRINTK_MAX_LOG / 2);
                            size_t from = keep ? (size_t)(keep + 1 - b.data) : b.len - CL_PRINTK_MAX_LOG / 2;
                            memmove(b.data, b.data + from, b.len - from + 1);
                            b.len -= from;
                            cut = true;
                        }
                    } else {
                        cl_error_free(err);
                        bad++;
                    }
                }
            }
        }
        if (id == head)
            break;
    }
    free(text);
    if (bad)
        cl_dump_warn(warn, "printk: %zu of the ring's records could not be read", bad);
    if (cut)
        cl_dump_warn(warn, "printk: only the newest %u bytes of the log are kept", CL_PRINTK_MAX_LOG / 2);
    if (!records) {
        cl_buf_reset(&b);
        return cl_error_set(errp, CL_ERR_CORRUPT, "printk: no readable record in the ring buffer");
    }
    size_t len = b.len;
    char *s = cl_buf_finish(&b, errp);
    if (!s)
        return false;
    *log = s;
    *loglen = len;
    return true;
}
