/* A Linux swap area (version 1 signature, UUID, label). */
#ifndef MKVMIMG_SWAP_H
#define MKVMIMG_SWAP_H

#include <stdint.h>

/* uuid NULL: a random one.  label NULL: none (at most 16 bytes). */
int swap_mkswap (const char *image, uint64_t offset, uint64_t size,
                 const char *uuid, const char *label);

#endif /* MKVMIMG_SWAP_H */
