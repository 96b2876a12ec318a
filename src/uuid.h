/* UUIDs: random, or derived from a seed so that images are reproducible. */
#ifndef MKVMIMG_UUID_H
#define MKVMIMG_UUID_H

#include <stdint.h>

/* Write a version-4 style UUID string (37 bytes with the NUL) to out.
 * seed NULL: random (getrandom).  Otherwise derived from seed and
 * purpose ("root", "disk", "esp" ...), the same every time.
 */
void uuid_make (char out[37], const char *seed, const char *purpose);
/* 32 bits, random or derived the same way (FAT volume id, MBR id). */
uint32_t uuid_make32 (const char *seed, const char *purpose);

/* 16 bytes in the order of the string (big-endian fields) to
 * "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (lower case).
 */
void uuid_format (char out[37], const unsigned char b[16]);
/* The reverse; -1 (nothing reported) if str is not a UUID. */
int uuid_parse (const char *str, unsigned char b[16]);

#endif /* MKVMIMG_UUID_H */
