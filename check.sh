#!/bin/sh
# Set up (installs Debian packages), build, and run the whole test suite.
# Two builds, each in a directory of its own:
#   build-sanitize/  --enable-sanitizers (ASan, UBSan): make check, every test
#   build-plain/     no sanitizers: make check-valgrind, the C unit tests
#                    under valgrind (which cannot run ASan binaries)
# Ends with one line "N passed, N failed, N skipped" summing both runs;
# exits non-zero when anything failed.
set -e
cd "$(dirname "$0")"
./setup.sh
[ -x configure ] || ./autogen.sh
if [ -f config.status ]; then
  echo "check.sh: the source tree itself is configured; the builds go in" \
       "build-sanitize/ and build-plain/: run 'make distclean' here first" >&2
  exit 1
fi
san=build-sanitize
plain=build-plain
mkdir -p $san $plain
# Only this run's results are counted.
find $san $plain -name '*.trs' -exec rm -f {} +

set +e
(cd $san && { [ -f Makefile ] ||
   ../configure --enable-gcc-warnings --enable-sanitizers; } &&
 make -j2 && make -j2 check) >check.log 2>&1
rc=$?
(cd $plain && { [ -f Makefile ] || ../configure --enable-gcc-warnings; } &&
 make -j2 check-valgrind) >check-valgrind.log 2>&1
rc_vg=$?
set -e
grep -E '^(PASS|FAIL|ERROR|SKIP|XFAIL|XPASS):' check.log || true
sed -n 's/^\(PASS\|FAIL\|ERROR\|SKIP\|XFAIL\|XPASS\): /&valgrind: /p' \
  check-valgrind.log
passed=0 failed=0 skipped=0
for trs in $(find $san $plain -name '*.trs'); do
  case $(sed -n 's/^:test-result: //p' "$trs") in
    PASS|XFAIL) passed=$((passed + 1)) ;;
    SKIP) skipped=$((skipped + 1)) ;;
    *) failed=$((failed + 1))
       log=${trs%.trs}.log
       echo "--- $log"; tail -n 40 "$log" ;;
  esac
done
# A build or harness failure leaves no .trs to count.
if [ $rc -ne 0 ] && [ $failed -eq 0 ]; then
  tail -n 40 check.log
  failed=1
fi
if [ $rc_vg -ne 0 ] && [ $failed -eq 0 ]; then
  tail -n 40 check-valgrind.log
  failed=1
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
