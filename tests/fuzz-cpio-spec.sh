#!/bin/sh
# libFuzzer: the gen_init_cpio spec parser (into the cpio sink and back).
# Replays tests/fuzz/cpio-spec/regress, then fuzzes for $FUZZ_SECONDS (60).
target=cpio-spec
. "$srcdir/fuzz-run.sh"
