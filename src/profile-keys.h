/* The profile schema: every section and every key, with its type,
 * default, allowed values and documentation.  profile.c checks and
 * looks up values through it; "mkvmimg profile keys" prints it; a test
 * compares it with mkvmimg-profile(5).
 */
#ifndef MKVMIMG_PROFILE_KEYS_H
#define MKVMIMG_PROFILE_KEYS_H

#include <stdbool.h>

struct profile;

enum profile_type {
  PT_STRING,            /* any text; range: length */
  PT_PATH,              /* a file name, not empty */
  PT_SIZE,              /* parse_size: "512M", "4G"; range: bytes */
  PT_INT,               /* decimal integer; range: value */
  PT_BOOL,              /* yes/no/true/false/1/0/on/off */
  PT_ENUM,              /* one of allowed: "a|b|c" */
  PT_LIST,              /* comma or white space separated words */
  PT_SIZE_OR_PERCENT,   /* a size, or "N%" (0..1000) */
};

/* Key flags. */
#define PK_REQUIRED  1  /* must be set (and not empty) */
#define PK_KEYVALUE  2  /* PT_LIST: every element is "key=value" */
#define PK_HOST      4  /* PT_PATH: the words "host", "none" and "busybox" are
                           special (profile_get_path keeps them) */
#define PK_PCI_ID    8  /* PT_STRING: "VVVV:DDDD", hexadecimal */

/* A default that depends on the section's name or other keys, e.g. a
 * partition's type from its name.  name is NULL for unnamed sections.
 * Returns a static string or NULL (no default).
 */
typedef const char *(*profile_default_fn) (const struct profile *p,
                                           const char *name);

struct profile_key {
  const char *section;          /* "image", "partition", ... */
  const char *key;              /* "size" */
  enum profile_type type;
  const char *def;              /* default value, NULL: unset */
  const char *allowed;          /* PT_ENUM: "a|b"; PT_INT, PT_SIZE,
                                   PT_STRING: range "MIN..MAX", either
                                   end may be empty; or NULL */
  unsigned flags;               /* PK_* */
  profile_default_fn compute;   /* computed default, or NULL */
  const char *doc;              /* one line of documentation */
  const char *example;          /* a valid value */
};

struct profile_section_def {
  const char *section;
  bool named;                   /* [partition NAME] */
  const char *doc;
};

/* Both tables end with a NULL section. */
extern const struct profile_section_def profile_sections[];
extern const struct profile_key profile_keys[];

const struct profile_section_def *profile_find_section (const char *section);
const struct profile_key *profile_find_key (const char *section,
                                            const char *key);
/* "size", "enum", "size-or-percent", ... */
const char *profile_type_name (enum profile_type type);

#endif /* MKVMIMG_PROFILE_KEYS_H */
