# asker.bash: a long-lived process (one lookup cache) asked questions over
# two FIFOs, $ROOT/cmd and $ROOT/res, one answer line per question line.
# The FIFOs are opened read-write here (fds 5 and 6) and read with a
# timeout, so an asker that dies early fails the test rather than hangs it.
#   asker_fifos          make the FIFOs (before starting the asker with
#                        "$ROOT/cmd" "$ROOT/res" among its arguments, &)
#   asker_started        right after the asker was put in the background
#   asker_stop           send "q", wait for it, close the fds
#   asker_kill           in teardown: kill one left running
#   b SCRIPT             the other side: a new process of the union ("RUN"
#                        of oracle.bash) running sh SCRIPT with $1 = $U

asker_fifos() {
	mkfifo "$ROOT/cmd" "$ROOT/res"
}

asker_started() {
	A_PID=$!
	exec 5<>"$ROOT/cmd" 6<>"$ROOT/res"
}

asker_stop() {
	echo q >&5
	wait "$A_PID" || true
	A_PID=
	exec 5>&- 6<&-
}

asker_kill() {
	[ -z "${A_PID:-}" ] || kill "$A_PID" 2>/dev/null || true
}

b() {
	"${RUN[@]}" sh -c "$1" _ "$U"
}
