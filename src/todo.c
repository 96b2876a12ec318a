/* Temporary: commands not written yet.  Each area deletes its function
 * here when it adds the real one; this file goes away when empty.
 */
#include <config.h>
#include "mkvmimg.h"
#include "cli.h"
#include "initramfs.h"

int cmd_build (int argc, char **argv) { error ("build: not implemented"); return 1; }
