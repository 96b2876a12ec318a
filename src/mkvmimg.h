/* mkvmimg: what every file of the tool shares.
 * Only the program name and the verbosity are global.
 */
#ifndef MKVMIMG_H
#define MKVMIMG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

extern const char *program_name;
extern int verbose;             /* -v, counted */
extern int quiet;               /* -q */

/* Exit codes, documented in mkvmimg(1). */
#define EXIT_OK     0
#define EXIT_FAIL   1
#define EXIT_USAGE  2

#define ATTRIBUTE_PRINTF(f, a) __attribute__((format (printf, f, a)))

/* "mkvmimg: <what was being done>: <why>" on stderr.  Called once, where
 * the error happens.
 */
void error (const char *fs, ...) ATTRIBUTE_PRINTF (1, 2);
/* The same, with ": strerror(errno)" appended. */
void error_errno (const char *fs, ...) ATTRIBUTE_PRINTF (1, 2);
void warning (const char *fs, ...) ATTRIBUTE_PRINTF (1, 2);
/* Progress and status lines (stderr), silenced by -q. */
void info (const char *fs, ...) ATTRIBUTE_PRINTF (1, 2);
/* Debug lines (stderr), only with -v. */
void debug (const char *fs, ...) ATTRIBUTE_PRINTF (1, 2);

/* Allocation that cannot fail: on ENOMEM the process exits, as there is
 * nothing sensible left to do.  Returned strings are freed by the caller.
 */
void *xmalloc (size_t n);
void *xcalloc (size_t n, size_t s);
void *xrealloc (void *p, size_t n);
char *xstrdup (const char *s);
char *xasprintf (const char *fs, ...) ATTRIBUTE_PRINTF (1, 2);

/* Cleanup attributes for locals. */
void cleanup_free (void *ptr);
void cleanup_fclose (void *ptr);
void cleanup_close (void *ptr);
void cleanup_strv (void *ptr);
#define CLEANUP_FREE __attribute__((cleanup (cleanup_free)))
#define CLEANUP_FCLOSE __attribute__((cleanup (cleanup_fclose)))
#define CLEANUP_CLOSE __attribute__((cleanup (cleanup_close)))
#define CLEANUP_STRV __attribute__((cleanup (cleanup_strv)))

/* NULL-terminated string vectors (argv, lists from profiles). */
struct strv {
  char **v;
  size_t len, cap;
};
void strv_add (struct strv *s, const char *str);       /* copies str */
void strv_addf (struct strv *s, const char *fs, ...) ATTRIBUTE_PRINTF (2, 3);
void strv_free (struct strv *s);
void cleanup_strv_struct (void *ptr);
#define CLEANUP_STRV_STRUCT __attribute__((cleanup (cleanup_strv_struct)))

/* Read a whole file into memory (NUL-terminated).  Caller frees. */
char *read_whole_file (const char *path, size_t *len_rtn);
/* Write all of buf to fd, retrying on short writes. */
int write_all (int fd, const void *buf, size_t len);
/* Parse "512M", "4G", "100k", "1048576" (binary units).  -1 on error. */
int parse_size (const char *str, unsigned long long *rtn);
/* Shell-quote a word for printing (never for executing).  Caller frees. */
char *shell_quote (const char *word);
/* Compare version strings with runs of digits as numbers, so that
 * "6.1.0-56" sorts after "6.1.0-9".  <0, 0, >0 as strcmp.
 */
int version_cmp (const char *a, const char *b);
/* mkdir -p. */
int mkdir_p (const char *path, mode_t mode);
/* Is stderr a terminal on which progress may be drawn? */
bool progress_enabled (void);
/* "mkvmimg: WHAT: 42%" redrawn in place on a terminal (at most five times
 * a second); nothing when stderr is not a terminal or with -q.
 * progress_end ends the line.
 */
void progress (const char *what, unsigned long long done,
               unsigned long long total);
void progress_end (void);

#define STREQ(a, b) (strcmp ((a), (b)) == 0)
#define STRPREFIX(a, b) (strncmp ((a), (b), strlen (b)) == 0)

#endif /* MKVMIMG_H */
