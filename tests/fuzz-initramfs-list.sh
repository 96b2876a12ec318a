#!/bin/sh
# libFuzzer: initramfs list: the cpio reader of every segment.
# Replays tests/fuzz/initramfs-list/regress, then fuzzes for $FUZZ_SECONDS (60).
target=initramfs-list
. "$srcdir/fuzz-run.sh"
