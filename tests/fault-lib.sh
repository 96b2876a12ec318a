# Shared by the fault tests; source it after functions.sh.
#
#   hold_tools TOOL...   put stand-ins for TOOLs first in PATH: with
#                        FAULT_HOLD=TOOL in the environment the stand-in
#                        writes its pid to $tmp/held and waits (in open()
#                        of a FIFO, no child process) until release_tool
#                        or a signal; then it execs the real TOOL, keeping
#                        its pid.  Without FAULT_HOLD it is the real TOOL.
#   start_bg CMD...      run CMD in a session of its own (as a terminal
#                        job would be), stdout to $tmp/bg.out, stderr to
#                        $tmp/bg.log; sets bg_pid
#   wait_for_line REGEX  wait (30 s at most) for a line of $tmp/bg.log
#   wait_for_file PATH   wait (30 s at most) for PATH to exist
#   bg_finish            wait for the job: sets bg_rc (128+N if killed)
#   assert_no_procs WHAT no process of the last job's session left (if
#                        bg_pid_done is set), and none whose command line
#                        mentions $tmp
#   assert_empty_dir DIR WHAT

hold_tools ()
{
  mkdir -p "$tmp/bin"
  for _tool; do
    _real=$(command -v "$_tool") || fail "hold_tools: $_tool not found"
    cat > "$tmp/bin/$_tool" <<EOS
#!/bin/sh
if [ "\${FAULT_HOLD:-}" = $_tool ]; then
  echo \$\$ > "$tmp/held.new" && mv "$tmp/held.new" "$tmp/held"
  read go < "$tmp/go"
fi
exec $_real "\$@"
EOS
    chmod 0755 "$tmp/bin/$_tool"
  done
  [ -p "$tmp/go" ] || mkfifo "$tmp/go"
  PATH="$tmp/bin:$PATH"
  export PATH
}

# Let a held tool go on (it is blocked opening the FIFO for reading).
release_tool ()
{
  timeout 10 sh -c 'echo go > "$1"' sh "$tmp/go" ||
    fail "release_tool: the held tool was not waiting"
}

bg_pid=""
bg_pid_done=""
start_bg ()
{
  rm -f "$tmp/held"
  : > "$tmp/bg.log"
  # Not a process group leader (no job control here), so setsid runs
  # CMD itself: bg_pid is CMD's pid, and its session id.
  setsid "$@" > "$tmp/bg.out" 2>> "$tmp/bg.log" &
  bg_pid=$!
}

_kill_bg ()
{
  if [ -n "$bg_pid" ]; then
    kill -KILL -"$bg_pid" 2>/dev/null
    kill -KILL "$bg_pid" 2>/dev/null
  fi
}
cleanup_fn _kill_bg

# (No local variables in sh: names here start with _.)
_wait_for ()
{
  _what=$1
  shift
  _i=0
  until "$@"; do
    _i=$((_i + 1))
    if [ $_i -gt 1500 ]; then
      cat "$tmp/bg.log" >&2
      fail "timed out waiting for $_what"
    fi
    if [ -n "$bg_pid" ] && ! kill -0 "$bg_pid" 2>/dev/null; then
      cat "$tmp/bg.log" >&2
      fail "the command exited while the test waited for $_what"
    fi
    sleep 0.02
  done
}

wait_for_line ()
{
  _wait_for "'$1' on stderr" grep -q -e "$1" "$tmp/bg.log"
}

wait_for_file ()
{
  _wait_for "$1" test -e "$1"
}

bg_finish ()
{
  bg_rc=0
  wait "$bg_pid" || bg_rc=$?
  bg_pid_done=$bg_pid
  bg_pid=""
}

assert_no_procs ()
{
  # The killed process's children are reaped by it before it dies; give
  # the kernel a moment to finish removing them.
  _i=0
  while _left=$(if [ -n "$bg_pid_done" ]; then pgrep -s "$bg_pid_done"; fi
                pgrep -f "$tmp"); [ -n "$_left" ]; do
    _i=$((_i + 1))
    if [ $_i -gt 50 ]; then
      ps -o pid,sid,args -p "$(echo $_left | tr ' ' ,)" >&2 || :
      fail "$1: processes left behind: $_left"
    fi
    sleep 0.1
  done
}

assert_empty_dir ()
{
  [ -z "$(ls -A "$1")" ] || { ls -la "$1" >&2; fail "$2: files left in $1"; }
}
