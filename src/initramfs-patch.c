#include <config.h>
#include "mkvmimg.h"
#include "initramfs.h"
int cmd_initramfs_patch (int argc, char **argv) { return 1; }
