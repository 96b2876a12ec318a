/* mkvmimg initramfs: the subcommand table. */
#include <config.h>

#include "mkvmimg.h"
#include "cli.h"
#include "initramfs.h"

static const struct command initramfs_commands[] = {
  { "list", cmd_initramfs_list, "list the entries of every segment" },
  { "extract", cmd_initramfs_extract, "unpack every segment into a directory" },
  { "create", cmd_initramfs_create, "make an image from a directory or a spec" },
  { "patch", cmd_initramfs_patch, "add, replace or remove entries" },
  { NULL, NULL, NULL }
};

int
cmd_initramfs (int argc, char **argv)
{
  return cli_dispatch ("initramfs", initramfs_commands, argc, argv);
}
