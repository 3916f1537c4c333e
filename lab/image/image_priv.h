/* image_priv.h - shared by the files of lab/image and its unit tests. */
#ifndef CL_IMAGE_PRIV_H
#define CL_IMAGE_PRIV_H

#include <limits.h>
#include <stddef.h>

#include "image/disk.h"
#include "image/hive.h"
#include "image/image.h"

/* A private temporary directory (mkdtemp under $TMPDIR or /tmp). */
bool cl_image_tmpdir(char *out, size_t outlen, cl_error **errp);

/* Copies a hive out of the disk (winpath under root, at most CL_HIVE_MAX_BYTES). */
bool cl_image_fetch_hive(cl_disk *d, const char *root, const char *winpath, const char *local, cl_error **errp);

/* "ControlSet00N" from SYSTEM\Select\Current (ControlSet001 when absent or odd). */
void cl_image_control_set(cl_hive *sys, char *out, size_t outlen);

/* The BCD store's default boot loader object, "{guid}" (checked to be one). */
bool cl_image_bcd_default(cl_hive *bcd, char *guid, size_t len);

/* CL_FB_* bits from the "rem crashlab-step: NAME" lines of a firstboot.cmd. Pure. */
unsigned cl_image_firstboot_parse(const char *text, size_t len);

/* A registry path (%SystemRoot%\X, C:\X) relative to the Windows volume; false for
 * another volume or a path with ".." or '/'. Pure. */
bool cl_image_volume_relative(const char *win, char *out, size_t len);

/* Facts from an opened disk (image prepare reads its result through the same path). */
bool cl_image_facts_from_disk(cl_disk *d, const char *cert_sha1, cl_image_facts *f, cl_error **errp);

/* Where the lab's build puts the Windows agent and certificate. */
#define CL_IMAGE_DEFAULT_AGENT "build/windows/labagent.exe"
#define CL_IMAGE_DEFAULT_CERT "build/windows/labfault-test.cer"

#endif
