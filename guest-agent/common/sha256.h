/* sha256.h - SHA-256 (FIPS 180-4) for hashing dump files in the guest without
 * depending on which CNG providers the image ships. */
#ifndef LABAGENT_SHA256_H
#define LABAGENT_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t h[8];
    uint64_t total;        /* bytes hashed so far */
    uint8_t block[64];
    size_t used;           /* bytes waiting in block */
} sha256_ctx;

void sha256_init(sha256_ctx *c);
void sha256_update(sha256_ctx *c, const void *data, size_t len);
void sha256_final(sha256_ctx *c, uint8_t out[32]);
void sha256_hex(const uint8_t digest[32], char hex[65]);

#endif
