/* autoptr.h - scope-bound cleanup over __attribute__((cleanup)), after libvirt's
 * virautoclean.h: a type's free function is named once, beside the type, and
 * CL_AUTOPTR(T) x = NULL; is then freed on every return path. */
#ifndef CL_UTIL_AUTOPTR_H
#define CL_UTIL_AUTOPTR_H

#include <stdlib.h>
#include <unistd.h>

#define CL_DEFINE_AUTOPTR_FUNC(type, func) \
    static inline void type##_autoptr_cleanup(type **p) { if (*p) func(*p); }

#define CL_AUTOPTR(type) __attribute__((cleanup(type##_autoptr_cleanup))) type *

static inline void cl_autofree_cleanup(void *p) { free(*(void **)p); }
#define CL_AUTOFREE __attribute__((cleanup(cl_autofree_cleanup)))

static inline void cl_autoclose_cleanup(int *fd) { if (*fd >= 0) close(*fd); }
#define CL_AUTOCLOSE __attribute__((cleanup(cl_autoclose_cleanup))) int

/* Hands a pointer out of a scope whose cleanup would otherwise free it. */
static inline void *cl_steal_ptr(void *pp)
{
    void **p = pp;
    void *v = *p;
    *p = NULL;
    return v;
}
#define cl_steal_pointer(pp) cl_steal_ptr(pp)

/* Closes *fd if open and sets it to -1, keeping errno for error paths. */
void cl_force_close(int *fd);

#endif
