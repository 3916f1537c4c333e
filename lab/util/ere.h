/* ere.h - bounds on a POSIX extended regular expression before regcomp sees it.
 *
 * glibc's regcomp expands counted repeats into copies of the repeated tree: "a{1,32767}"
 * took 47 s and 7.9 GB here, nested counted repeats multiply. A pattern from a scenario
 * (expect.pattern) is checked first: at most CL_ERE_MAX_LEN bytes, repeat counts at most
 * CL_ERE_MAX_REPEAT, groups nested at most CL_ERE_MAX_DEPTH deep, and at most
 * CL_ERE_MAX_NODES atoms once every counted repeat is expanded (the product of the counts
 * that enclose each atom). Back-references (\1..\9, a glibc extension to EREs) are refused:
 * they are the one feature that makes matching exponential. regexec's time grows with the
 * expanded size times the text (measured here, -O2, 8 KiB of text: 1,785 atoms 1.9 s, 510
 * atoms 0.26 s); within these bounds the worst patterns lab/util/ere_test.c knows take well
 * under a second, once per run.
 */
#ifndef CL_UTIL_ERE_H
#define CL_UTIL_ERE_H

#include <stdbool.h>
#include <stddef.h>

#define CL_ERE_MAX_LEN 1024
#define CL_ERE_MAX_REPEAT 255
#define CL_ERE_MAX_DEPTH 16
#define CL_ERE_MAX_NODES 512

/* True when pattern is within the bounds; else false with why (the first bound broken and
 * the byte offset where). Whether the pattern compiles is regcomp's to say afterwards. */
bool cl_ere_check(const char *pattern, char *why, size_t whylen);

#endif
