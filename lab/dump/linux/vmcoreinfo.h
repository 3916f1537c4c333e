/* vmcoreinfo.h - lookups in the kernel's VMCOREINFO text ("KEY=value" lines):
 * OSRELEASE, PAGESIZE, SYMBOL(x), OFFSET(s.m), SIZE(s), NUMBER(x), KERNELOFFSET. */
#ifndef CL_DUMP_VMCOREINFO_H
#define CL_DUMP_VMCOREINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Copies the value of key into out (NUL-terminated); false when absent. */
bool cl_vmci_get(const char *vmci, const char *key, char *out, size_t outlen);
/* SYMBOL(name) and KERNELOFFSET are hex; OFFSET, SIZE, LENGTH, NUMBER and PAGESIZE decimal. */
bool cl_vmci_symbol(const char *vmci, const char *name, uint64_t *out);
bool cl_vmci_offset(const char *vmci, const char *member, uint64_t *out); /* "prb_desc_ring.count_bits" */
bool cl_vmci_size(const char *vmci, const char *type, uint64_t *out);
bool cl_vmci_number(const char *vmci, const char *name, int64_t *out);
bool cl_vmci_hex(const char *vmci, const char *key, uint64_t *out);
bool cl_vmci_dec(const char *vmci, const char *key, int64_t *out);

#endif
