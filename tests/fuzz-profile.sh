#!/bin/sh
# libFuzzer: the profile parser and validator (print, read back).
# Replays tests/fuzz/profile/regress, then fuzzes for $FUZZ_SECONDS (60).
target=profile
. "$srcdir/fuzz-run.sh"
