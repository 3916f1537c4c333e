/* screenshot.h - the guest's screen at the moment of the crash (a blue screen is evidence),
 * taken through virDomainScreenshot and kept as PNG. */
#ifndef CL_VIRT_SCREENSHOT_H
#define CL_VIRT_SCREENSHOT_H

#include <stdbool.h>
#include <stddef.h>

#include "virt.h"

#define CL_SCREENSHOT_MAX (64u << 20)

bool cl_domain_screenshot(cl_virt *v, cl_domain *dom, const char *png_path, cl_error **errp);

/* Converts a binary PPM (P6, maxval 255) to PNG; pure, bounded by the header's size. */
bool cl_ppm_to_png(const unsigned char *ppm, size_t len, unsigned char **png, size_t *pnglen, cl_error **errp);

#endif
