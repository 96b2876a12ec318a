/* Shared by the libFuzzer targets: a private temporary directory (under
 * $TMPDIR, removed at exit) for the inputs that the code under test
 * reads by name, and checks that abort with a message, so that libFuzzer
 * records the input as a crash.
 */
#ifndef MKVMIMG_FUZZ_COMMON_H
#define MKVMIMG_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

/* The directory, made on the first call.  Not to be freed. */
const char *fuzz_dir (void);
/* fuzz_dir()/NAME.  Caller frees. */
char *fuzz_path (const char *name);
/* Replace the file fuzz_dir()/NAME by data.  Returns its path (caller
 * frees); aborts when the file cannot be written (that is no finding).
 */
char *fuzz_write_file (const char *name, const uint8_t *data, size_t size);
/* An anonymous file holding data, for code that reads an fd; aborts if
 * it cannot be made.
 */
int fuzz_memfd (const uint8_t *data, size_t size);
/* stdout to /dev/null (the code under test prints its results there). */
void fuzz_stdout_to_null (void);

/* An invariant the code under test broke: print and abort(). */
void fuzz_fail (const char *fs, ...)
  __attribute__((format (printf, 1, 2), noreturn));
#define FUZZ_CHECK(cond, ...) \
  do { if (!(cond)) fuzz_fail (__VA_ARGS__); } while (0)

#endif /* MKVMIMG_FUZZ_COMMON_H */
