#!/bin/sh
# Set up (installs Debian packages), build, and run the whole test suite.
# Ends with one line "N passed, N failed, N skipped"; exits non-zero when
# anything failed.
set -e
cd "$(dirname "$0")"
./setup.sh
[ -x configure ] || ./autogen.sh
[ -f Makefile ] || ./configure --enable-gcc-warnings
make -j2
set +e
make -j2 check >check.log 2>&1
rc=$?
set -e
grep -E '^(PASS|FAIL|ERROR|SKIP|XFAIL|XPASS):' check.log || true
passed=0 failed=0 skipped=0
for trs in $(find . -name '*.trs'); do
  case $(sed -n 's/^:test-result: //p' "$trs") in
    PASS|XFAIL) passed=$((passed + 1)) ;;
    SKIP) skipped=$((skipped + 1)) ;;
    *) failed=$((failed + 1))
       log=${trs%.trs}.log
       echo "--- $log"; tail -n 40 "$log" ;;
  esac
done
if [ $rc -ne 0 ] && [ $failed -eq 0 ]; then
  tail -n 40 check.log
  failed=1
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
