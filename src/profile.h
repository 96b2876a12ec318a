/* Build profiles: INI files with [section] and named [type name]
 * sections, "key = value" lines, "#" comments, sizes with units, lists.
 * Every key is declared in one schema table (profile-keys.c) with its
 * type, default and documentation; unknown sections and keys are errors
 * naming file:line.
 */
#ifndef MKVMIMG_PROFILE_H
#define MKVMIMG_PROFILE_H

#include <stdbool.h>
#include <stdio.h>

struct profile;

/* Parse.  NULL with the error reported as "mkvmimg: FILE:LINE: ...". */
struct profile *profile_parse_file (const char *path);
struct profile *profile_parse_string (const char *text, const char *name);
/* The built-in default profile (profiles/default.conf, compiled in). */
extern const char profile_default_text[];
struct profile *profile_load (const char *path_or_null);

/* --set SECTION[.NAME].KEY=VALUE ("image.size=8G",
 * "partition.root.size=4G", "file./etc/motd.mode=0644").  -1 on error.
 */
int profile_set (struct profile *p, const char *assignment);

/* Check every value against the schema (types, ranges, enums, required
 * keys, duplicate sections).  -1 with every error reported (file:line).
 */
int profile_validate (struct profile *p);

void profile_free (struct profile *p);
void cleanup_profile (void *ptr);
#define CLEANUP_PROFILE __attribute__((cleanup (cleanup_profile)))

/* Print the resolved profile: every section, every key with its value or
 * default, in a form profile_parse_file reads back.
 */
void profile_print (const struct profile *p, FILE *fp);

/* Lookups after validation.  name is NULL for unnamed sections.  A key
 * not set gives the schema's default (NULL when there is none).
 */
const char *profile_get (const struct profile *p, const char *section,
                         const char *name, const char *key);
bool profile_is_set (const struct profile *p, const char *section,
                     const char *name, const char *key);
bool profile_get_bool (const struct profile *p, const char *section,
                       const char *name, const char *key);
unsigned long long profile_get_size (const struct profile *p,
                                     const char *section, const char *name,
                                     const char *key);
long long profile_get_int (const struct profile *p, const char *section,
                           const char *name, const char *key);
/* A list value (comma or white space separated); NULL-terminated,
 * caller frees with CLEANUP_STRV.  Never NULL.
 */
char **profile_get_list (const struct profile *p, const char *section,
                         const char *name, const char *key);
/* Named sections of one type ("partition"), in profile order. */
size_t profile_count (const struct profile *p, const char *section);
const char *profile_section_name (const struct profile *p,
                                  const char *section, size_t i);
bool profile_has_section (const struct profile *p, const char *section,
                          const char *name);
/* Where a value came from, for messages: "FILE:LINE", "--set" or
 * "default".  Not to be freed.
 */
const char *profile_where (const struct profile *p, const char *section,
                           const char *name, const char *key);

/* Added by the profile area (not in the first interface). */

/* A size-or-percent key ([image] margin): a size as such, or "N%" as
 * N percent of base.  0 when unset.
 */
unsigned long long profile_get_size_relative (const struct profile *p,
                                              const char *section,
                                              const char *name,
                                              const char *key,
                                              unsigned long long base);
/* A path key.  A relative path is relative to the directory of the
 * profile file that set it (to the current directory for --set, the
 * built-in profile and standard input).  The special words "host" and
 * "none" of [kernel] image, initrd and modules are returned as they are.
 * 0 with *path_rtn NULL when the key is unset; -1 on error (reported).
 * Caller frees *path_rtn.
 */
int profile_get_path (const struct profile *p, const char *section,
                      const char *name, const char *key, char **path_rtn);
/* The same rule for a path found inside a value, e.g. after "tar:" in
 * [rootfs] source.  Caller frees.
 */
char *profile_resolve_path (const struct profile *p, const char *section,
                            const char *name, const char *key,
                            const char *path);
/* Print the resolved profile as JSON: one object per unnamed section,
 * an array of objects (with "name") per named section type; sizes in
 * bytes, ints as numbers, bools as true/false, lists as arrays, unset
 * keys as null.
 */
void profile_print_json (const struct profile *p, FILE *fp);

#endif /* MKVMIMG_PROFILE_H */
