#!/bin/sh
# libFuzzer: an archive into a small ext4 filesystem; e2fsck -fn must pass.
# Replays tests/fuzz/ext4/regress, then fuzzes for $FUZZ_SECONDS (60).
target=ext4
# e2fsck runs for every input that writes a filesystem.
FUZZ_TIMEOUT=${FUZZ_TIMEOUT:-30}
. "$srcdir/fuzz-run.sh"
