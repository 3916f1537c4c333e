/* btf.h - field offsets from the kernel's own BTF (CONFIG_DEBUG_INFO_BTF; the blob between
 * __start_BTF and __stop_BTF), so the dump reader needs no debug package. A small parser of
 * the few kinds needed rather than libbpf: the blob comes from a hostile dump, and every
 * length and type id here is checked against the blob before use. */
#ifndef CL_DUMP_BTF_H
#define CL_DUMP_BTF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

#define CL_BTF_MAX_BYTES (64u << 20)
#define CL_BTF_MAX_TYPES (1u << 20)

typedef struct cl_btf cl_btf;

/* Parses a copy-free view of buf (which must outlive the result). */
cl_btf *cl_btf_parse(const unsigned char *buf, size_t len, cl_error **errp);
void cl_btf_free(cl_btf *b);
CL_DEFINE_AUTOPTR_FUNC(cl_btf, cl_btf_free)

/* Byte offset of a member of struct/union `type`; `path` may be dotted ("core_layout.base")
 * and looks through anonymous members. False (errp set) when any part is missing. */
bool cl_btf_offset(const cl_btf *b, const char *type, const char *path, uint64_t *off, cl_error **errp);

#endif
