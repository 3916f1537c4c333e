/* printk.h - the kernel log recovered from the printk ring buffer of a 5.10+ kernel
 * (struct printk_ringbuffer: desc ring + text data ring), located and laid out entirely
 * from VMCOREINFO (SYMBOL(prb), OFFSET(prb_desc_ring.*), SIZE(printk_info), ...). */
#ifndef CL_DUMP_PRINTK_H
#define CL_DUMP_PRINTK_H

#include <stdbool.h>
#include <stddef.h>

#include "dump/linux/kmem.h"
#include "dump/notes.h"

#define CL_PRINTK_MAX_LOG (4u << 20)
#define CL_PRINTK_MAX_RECORDS (1u << 20)

/* Returns the log as "[seconds.micros] text\n" lines, oldest first, in *log (malloc'd,
 * NUL-terminated). Records it cannot read are skipped with a warning. False (errp set)
 * when VMCOREINFO lacks the ring buffer description or the ring cannot be found. */
bool cl_printk_read(cl_kmem *k, const char *vmci, char **log, size_t *loglen, cl_dump_notes *warn,
                    cl_error **errp);

#endif
