/* le.h - explicit little/big-endian decoding (STYLE.md 6): dump fields are decoded from
 * byte buffers, never by casting file bytes to structs. */
#ifndef CL_DUMP_LE_H
#define CL_DUMP_LE_H

#include <stdint.h>

static inline uint16_t cl_le16(const void *p)
{
    const unsigned char *b = p;
    return (uint16_t)(b[0] | b[1] << 8);
}

static inline uint32_t cl_le32(const void *p)
{
    const unsigned char *b = p;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static inline uint64_t cl_le64(const void *p)
{
    const unsigned char *b = p;
    return (uint64_t)cl_le32(b) | (uint64_t)cl_le32(b + 4) << 32;
}

static inline uint32_t cl_be32(const void *p)
{
    const unsigned char *b = p;
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

static inline uint64_t cl_be64(const void *p)
{
    const unsigned char *b = p;
    return (uint64_t)cl_be32(b) << 32 | cl_be32(b + 4);
}

#endif
