/* btf_fuzz.c - libFuzzer target: the BTF parser (linux/btf.c) fed the blob a hostile dump
 * holds between __start_BTF and __stop_BTF, and the offset lookups crashlab makes on it. */
#include <stddef.h>
#include <stdint.h>

#include "dump/linux/btf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const q[][2] = { { "task_struct", "pid" }, { "task_struct", "comm" },
                                        { "pcpu_hot", "current_task" }, { "module", "core_layout.base" },
                                        { "module", "core_layout.size" }, { "mod_kallsyms", "num_symtab" } };
    cl_error *err = NULL;
    cl_btf *b = cl_btf_parse(data, size, &err);
    for (size_t i = 0; b && i < sizeof(q) / sizeof(q[0]); i++) {
        uint64_t off;
        cl_btf_offset(b, q[i][0], q[i][1], &off, &err);
        cl_error_free(err);
        err = NULL;
    }
    cl_btf_free(b);
    cl_error_free(err);
    return 0;
}
