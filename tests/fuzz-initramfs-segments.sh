#!/bin/sh
# libFuzzer: the initramfs segment splitter and compression detection.
# Replays tests/fuzz/initramfs-segments/regress, then fuzzes for $FUZZ_SECONDS (60).
target=initramfs-segments
. "$srcdir/fuzz-run.sh"
