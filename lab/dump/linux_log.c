/* linux_log.c - the whole kernel log of a Linux dump, for callers that look for lines of
 * their own in it (the run's ground truth: the fault module's "labfault: ground-truth"
 * line, which a crash report of a few hundred lines pushes out of the inspect object's
 * log_tail). */
#include <stdlib.h>

#include "dump/dump.h"
#include "dump/elf/elfcore.h"
#include "dump/kdump/kdump.h"
#include "dump/linux/ldump.h"
#include "dump/linux/printk.h"
#include "dump/reader.h"

bool cl_dump_linux_log(const char *path, char **log, size_t *len, cl_error **errp)
{
    CL_AUTOPTR(cl_reader) r = cl_reader_open_file(path, errp);
    if (!r)
        return false;
    unsigned char head[16] = { 0 };
    size_t n = cl_reader_size(r) < sizeof(head) ? (size_t)cl_reader_size(r) : sizeof(head);
    if (!cl_reader_read(r, 0, n, head, errp))
        return false;
    if (!cl_elfcore_probe(head, n) && !cl_kdump_probe(head, n))
        return cl_error_set(errp, CL_ERR_FORMAT, "'%s' is not a Linux dump (ELF vmcore or kdump)", path);
    CL_AUTOPTR(cl_ldump) d = cl_ldump_open(r, errp);
    if (!d)
        return false;
    if (!d->vmci)
        return cl_error_set(errp, CL_ERR_FORMAT, "'%s': no VMCOREINFO, so no kernel log", path);
    return cl_printk_read(&d->kmem, d->vmci, log, len, d->notes, errp);
}
