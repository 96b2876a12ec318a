/* UUIDs: random (getrandom), or derived from a seed and a purpose so
 * that two builds with the same seed give byte-identical images.
 *
 * The derivation is not cryptographic and does not need to be: it only
 * has to spread different (seed, purpose) pairs apart.  FNV-1a over
 * "seed\0purpose" gives a 64-bit state, and splitmix64 stretches it into
 * as many bits as needed.
 */
#include <config.h>

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "mkvmimg.h"
#include "uuid.h"

static uint64_t
fnv1a64 (uint64_t h, const void *data, size_t len)
{
  const unsigned char *p = data;

  for (size_t i = 0; i < len; ++i) {
    h ^= p[i];
    h *= UINT64_C (0x100000001b3);
  }
  return h;
}

static uint64_t
splitmix64 (uint64_t *state)
{
  uint64_t z = (*state += UINT64_C (0x9e3779b97f4a7c15));

  z = (z ^ (z >> 30)) * UINT64_C (0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C (0x94d049bb133111eb);
  return z ^ (z >> 31);
}

/* Fill buf with len bytes derived from seed and purpose, or random. */
static void
make_bytes (unsigned char *buf, size_t len, const char *seed,
            const char *purpose)
{
  if (seed) {
    uint64_t state = UINT64_C (0xcbf29ce484222325);
    const unsigned char nul = 0;

    state = fnv1a64 (state, seed, strlen (seed));
    state = fnv1a64 (state, &nul, 1);
    state = fnv1a64 (state, purpose, strlen (purpose));
    for (size_t i = 0; i < len; i += 8) {
      uint64_t v = splitmix64 (&state);
      for (size_t j = 0; j < 8 && i + j < len; ++j)
        buf[i + j] = v >> (8 * j);
    }
    return;
  }

  size_t done = 0;
  while (done < len) {
    ssize_t r = getrandom (buf + done, len - done, 0);
    if (r == -1) {
      if (errno == EINTR)
        continue;
      /* getrandom cannot really fail on Linux >= 3.17; if it does, do
       * not leave the bytes predictable from the seed path.
       */
      struct timespec ts;
      uint64_t state;
      clock_gettime (CLOCK_REALTIME, &ts);
      state = ts.tv_nsec ^ ((uint64_t) ts.tv_sec << 32) ^ getpid ();
      for (; done < len; ++done)
        buf[done] = splitmix64 (&state);
      return;
    }
    done += r;
  }
}

void
uuid_make (char out[37], const char *seed, const char *purpose)
{
  unsigned char b[16];

  make_bytes (b, sizeof b, seed, purpose);
  b[6] = (b[6] & 0x0f) | 0x40;  /* version 4 */
  b[8] = (b[8] & 0x3f) | 0x80;  /* variant 10 (RFC 4122) */
  uuid_format (out, b);
}

uint32_t
uuid_make32 (const char *seed, const char *purpose)
{
  unsigned char b[4];
  uint32_t v;

  make_bytes (b, sizeof b, seed, purpose);
  v = b[0] | b[1] << 8 | b[2] << 16 | (uint32_t) b[3] << 24;
  /* 0 means "none" for an MBR signature: never hand it out. */
  return v ? v : 0x4d564d49;
}

void
uuid_format (char out[37], const unsigned char b[16])
{
  snprintf (out, 37,
            "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
            "%02x%02x%02x%02x%02x%02x",
            b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
            b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

static int
hexval (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

int
uuid_parse (const char *str, unsigned char b[16])
{
  size_t n = 0;

  for (size_t i = 0; i < 36; ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (str[i] != '-')
        return -1;
      continue;
    }
    int hi = hexval (str[i]), lo;
    if (hi < 0)
      return -1;
    ++i;
    if (i == 8 || i == 13 || i == 18 || i == 23)
      return -1;
    lo = hexval (str[i]);
    if (lo < 0)
      return -1;
    b[n++] = hi << 4 | lo;
  }
  if (str[36] != '\0' || n != 16)
    return -1;
  return 0;
}
