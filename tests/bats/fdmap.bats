#!/usr/bin/env bats
# Promise (semantics.md "Fresh data", "Locks", "Processes"): the per-process
# fd map (shim/fdmap.h) stays exact through dup, dup2, dup3, F_DUPFD,
# F_DUPFD_CLOEXEC, close, close_range, closefrom, fork, vfork, every exec
# form, posix_spawn, posix_spawnp, system, popen and threads. What that
# buys, as a program sees it: an fd opened read-only on a lower file before
# another process copies it up reads the copy, through every dup of it, in
# forked, spawned and exec'd children that inherited it, the offset still
# shared between the fds of one open file description; flock and OFD locks
# stay while any fd of their open file description is open, also in a
# forked child, and go with the last one; a number of a closed union fd
# taken by a pipe, socket or memfd is never "switched", nor is an fd the
# program never opened.
#
# Each scenario is written once, as a function of the union dir $U and a
# command prefix RUN, and runs twice where kernel overlayfs keeps the same
# promise: "(shim)" with RUN=in_union, and "(overlayfs oracle)" with RUN=env
# on a kernel overlayfs mount of the same layers (index=on,xino=on), skipped
# where overlayfs cannot be mounted. The probe (tests/probes/fdmap_probe.c)
# prints its results one a line; at "ready WHAT" it waits for one line on
# stdin while the test does WHAT (a copy-up by another process, a lock
# attempt): processes coordinate through fifos and pipes, nothing sleeps.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/oracle

OLD='old data\n'               # a lower file, escaped as the probe prints it
NEW_RAW=$'NEW DATA\nappended\n' # the file after copyup
NEW='NEW DATA\nappended\n'      # the same, escaped

setup() {
	make_layers
	BROKEN=()
	DPID=
	NDRIVE=0
	trap '' PIPE # a dead probe fails the test, it does not kill bats
}

teardown() {
	stop_probe
	unmount_union
}

# lowers NAME...: lower files holding "old data\n".
lowers() {
	local n
	for n in "$@"; do
		printf 'old data\n' >"$LOWER/$n"
	done
}

# copyup NAME...: other processes copy each file up and rewrite it: one
# opens it O_RDWR and writes "NEW DATA\n" over the old data, a second
# appends "appended\n". Prints nothing unless something failed.
copyup() {
	local n
	for n in "$@"; do
		"${RUN[@]}" "$(probe fresh_probe)" write "$U/$n" 0 $'NEW DATA\n' ||
			echo "copyup $n: the O_RDWR write failed"
		"${RUN[@]}" sh -c 'printf "appended\n" >>"$1"' sh "$U/$n" ||
			echo "copyup $n: the append failed"
		[ "$(cat "$UPPER/$n" 2>&1; echo .)" = "$NEW_RAW." ] ||
			echo "copyup $n: the upper holds '$(cat "$UPPER/$n" 2>&1)'"
	done
}

try_locks() {
	"${RUN[@]}" "$(probe lock_probe)" try "$U/$1" rw "${@:2}" 2>&1 || true
}

# esc TEXT: TEXT escaped as the probe prints data.
esc() {
	local s=${1//\\/\\\\}
	printf '%s' "${s//$'\n'/\\n}"
}

# close_stray_fds: close every fd above 2 of this (sub)shell.
close_stray_fds() {
	local f
	for f in /proc/$BASHPID/fd/*; do
		f=${f##*/}
		if [ "$f" -gt 2 ] 2>/dev/null; then eval "exec $f>&-" 2>/dev/null || true; fi
	done
	return 0
}

# drive ACTION... -- CMD...: run CMD with stdin and stdout on two fifos and
# only fds 0-2 open (plus fd 3 on $DRIVE_FD3 when set), and collect the
# lines it prints in OUT; at each "ready WHAT" line, run the next ACTION (a
# command line), add what it prints to OUT, then answer "go". STATUS: the
# exit status of CMD.
drive() {
	local -a acts=()
	local base in out line i=0 r
	while [ "$1" != -- ]; do
		acts+=("$1")
		shift
	done
	shift
	NDRIVE=$((NDRIVE + 1))
	base=$BATS_TEST_TMPDIR/drive.$NDRIVE
	mkfifo "$base.in" "$base.out"
	(
		close_stray_fds
		if [ -n "${DRIVE_FD3:-}" ]; then exec 3<"$DRIVE_FD3"; fi
		"$@"
	) <"$base.in" >"$base.out" 2>"$base.err" &
	DPID=$!
	exec {in}>"$base.in" {out}<"$base.out"
	OUT=
	while :; do
		# the timeout only bounds a hung probe; no step waits on it
		r=0
		IFS= read -r -t 20 -u "$out" line || r=$?
		if [ "$r" -ne 0 ]; then
			[ -z "$line" ] || OUT+="$line (no newline)"$'\n'
			[ "$r" -le 128 ] || OUT+="(no line from the probe for 20 s)"$'\n'
			break
		fi
		OUT+=$line$'\n'
		[[ $line == "ready "* ]] || continue
		if [ "$i" -lt ${#acts[@]} ]; then
			r=$(eval "${acts[i]}" 2>&1) || r+=" (action '${acts[i]}' failed)"
			[ -z "$r" ] || OUT+=$r$'\n'
		else
			OUT+="(the test has no action for this)"$'\n'
		fi
		i=$((i + 1))
		printf 'go\n' >&"$in" 2>/dev/null || true # a dead probe shows in OUT
	done
	exec {in}>&- {out}<&-
	stop_probe
	[ ! -s "$base.err" ] || OUT+="stderr: $(cat "$base.err")"$'\n'
	OUT=${OUT%$'\n'}
}

stop_probe() {
	[ -n "$DPID" ] || return 0
	# a watchdog only: the probe ends at once once its stdout is drained
	if ! timeout 10 tail --pid="$DPID" -s 0.05 -f /dev/null; then
		echo "probe $DPID still runs 10 s after its last line: killed" >&2
		pkill -KILL -P "$DPID" || true
		kill -KILL "$DPID" 2>/dev/null || true
	fi
	STATUS=0
	wait "$DPID" || STATUS=$?
	DPID=
}

expect_status() {
	expect "setup: the probe ($1) exits 0" 0 "$STATUS"
}

# ---- 1. dups ----

KINDS=(open dup dup2 "dup3(O_CLOEXEC)" F_DUPFD F_DUPFD_CLOEXEC)
CLOEXEC=(0 0 0 1 0 1)
FIRST=("read 2" pread fstat "lseek SEEK_CUR")

# What `fdmap_probe dups` prints when every fd reads the copy: per file K,
# the first access after the copy-up goes through kind K, then 2 bytes are
# read through each kind in turn from there, continuing at offset 4.
dups_want() {
	local k j i off v
	for k in 0 1 2 3 4 5; do
		echo "f$k before: read open: ol, read dup: d "
	done
	echo "ready copy-up"
	for k in 0 1 2 3 4 5; do
		off=4
		case $((k % 4)) in
		0) v=$(esc "${NEW_RAW:off:2}") off=$((off + 2)) ;;
		1) v=$NEW ;;
		2) v=18 ;;
		3) v=4 ;;
		esac
		echo "f$k first, ${FIRST[k % 4]} through ${KINDS[k]}: $v"
		for j in 0 1 2 3 4 5; do
			i=$(((k + j) % 6))
			echo "f$k read 2 through ${KINDS[i]}: $(esc "${NEW_RAW:off:2}")"
			off=$((off + 2))
		done
		for i in 0 1 2 3 4 5; do
			echo "f$k ${KINDS[i]}: offset $off, size 18, cloexec ${CLOEXEC[i]}, pread $NEW, write EBADF"
		done
	done
}

fresh_dups() {
	lowers f0 f1 f2 f3 f4 f5
	use_union "$1"
	drive "copyup f0 f1 f2 f3 f4 f5" -- \
		"${RUN[@]}" "$(probe fdmap_probe)" dups "$U/f0" "$U/f1" "$U/f2" "$U/f3" "$U/f4" "$U/f5"
	expect "Fresh data, fd map: an O_RDONLY fd on a lower file and its dup, dup2, dup3(O_CLOEXEC), F_DUPFD and F_DUPFD_CLOEXEC copies all read the copy after another process copied it up and appended (read, pread, lseek, fstat; whichever of them looks first), the offset still shared between them (2 bytes through one, the next read through another continues), each keeping its close-on-exec flag and staying read-only" \
		"$(dups_want)" "$OUT"
	expect_status dups
	verdict
}

@test "fd map, dups: dup/dup2/dup3/F_DUPFD/F_DUPFD_CLOEXEC copies of a lower fd all read the copy, sharing the offset (shim)" {
	fresh_dups shim
}

@test "fd map, dups: dup/dup2/dup3/F_DUPFD/F_DUPFD_CLOEXEC copies of a lower fd all read the copy, sharing the offset (overlayfs oracle)" {
	fresh_dups overlayfs
}

# ---- 2. fork ----

FORK_WANT="parent before: f ol, g ol
ready copy-up
child f (first to look): pread $NEW, fstat 18
parent f (after the child): pread $NEW, fstat 18
parent g (first to look): pread $NEW, fstat 18
child g (after the parent): pread $NEW, fstat 18
child exit 0"

fresh_fork() {
	lowers f g
	use_union "$1"
	drive "copyup f g" -- "${RUN[@]}" "$(probe fdmap_probe)" fork "$U/f" "$U/g"
	expect "Fresh data, fd map across fork: a forked child and its parent both read the copy through the O_RDONLY lower fds they share, whichever looks first, after a third process copied the files up" \
		"$FORK_WANT" "$OUT"
	expect_status fork
	verdict
}

@test "fd map, fork: parent and child read the copy through an inherited lower fd (shim)" {
	fresh_fork shim
}

@test "fd map, fork: parent and child read the copy through an inherited lower fd (overlayfs oracle)" {
	fresh_fork overlayfs
}

# Not tested: a parent and a forked child reading in turn through one
# inherited fd no longer share its offset once each moved to the copy (each
# process moves its own fds); the README lists this under Known limits.

# ---- 3, 4. spawned and exec'd children ----

# spawn_want HOW [OFFSET]: what `fdmap_probe spawn HOW` prints; the child's
# fd is at OFFSET (2: the parent's, shared) when the copy-up comes.
spawn_want() {
	local how=$1 off=${2:-2}
	echo "parent read 2: ol"
	echo "$how child before: pread $OLD"
	echo "ready copy-up ($how child)"
	echo "$how child after: pread $NEW, fstat 18, read $(esc "${NEW_RAW:off}")"
	case $how in
	exec* | fexecve) ;;
	*)
		echo "$how exit 0"
		echo "parent pread: $NEW"
		;;
	esac
}

# fresh_spawn MODE WHAT HOW...: each HOW on its own lower file.
fresh_spawn() {
	local mode=$1 what=$2 how
	shift 2
	lowers "$@"
	use_union "$mode"
	for how in "$@"; do
		drive "copyup $how" -- "${RUN[@]}" "$(probe fdmap_probe)" spawn "$how" "$U/$how"
		expect "Fresh data, fd map across $what ($how): a child given an O_RDONLY lower fd (not O_CLOEXEC) by number reads the copy through it after another process copied the file up (pread, fstat; read continuing at the offset it shares with the parent)" \
			"$(spawn_want "$how")" "$OUT"
		expect_status "spawn $how"
	done
	verdict
}

SPAWNS=(vfork posix_spawn posix_spawnp system popen)
EXECS=(execvp execl fexecve)

@test "fd map, children: vfork+exec, posix_spawn, posix_spawnp, system and popen children read the copy through an inherited lower fd (shim)" {
	fresh_spawn shim "vfork+exec, posix_spawn, system, popen" "${SPAWNS[@]}"
}

@test "fd map, children: vfork+exec, posix_spawn, posix_spawnp, system and popen children read the copy through an inherited lower fd (overlayfs oracle)" {
	fresh_spawn overlayfs "vfork+exec, posix_spawn, system, popen" "${SPAWNS[@]}"
}

@test "fd map, exec: after execvp, execl and fexecve the program reads the copy through a lower fd it kept (shim)" {
	fresh_spawn shim exec "${EXECS[@]}"
}

@test "fd map, exec: after execvp, execl and fexecve the program reads the copy through a lower fd it kept (overlayfs oracle)" {
	fresh_spawn overlayfs exec "${EXECS[@]}"
}

# Many inherited fds: the map crosses exec in UNIONSHIM_FDMAP. exec_many N:
# a pair (an fd and its dup), N single fds, another pair, all on one lower
# file, cross an exec; after the copy-up each pair reads the copy, the dup
# continuing at the offset the fd's read left.
MANY_PAIRS="ready copy-up
first pair: read 2 NE, then through its dup W 
last pair: read 2 NE, then through its dup W "

exec_many() {
	local n=$2
	lowers f
	use_union "$1"
	drive "copyup f" -- "${RUN[@]}" "$(probe fdmap_probe)" manyexec "$U/f" "$n"
	expect "Fresh data, fd map across exec: with $((n + 4)) inherited fds on a lower file ($((n + 2)) open file descriptions; the first and the last an fd and its dup), both pairs read the copy after the exec'd program saw another process copy the file up, each dup continuing at the offset its fd's read left" \
		"$((n + 4)) fds open on the file ($((n + 2)) open file descriptions)
$MANY_PAIRS" "$OUT"
	expect_status manyexec
	verdict
}

@test "fd map, exec: 67 inherited lower fds in 65 open file descriptions cross exec; a dup pair read after the copy-up still shares its offset (shim)" {
	exec_many shim 63
}

@test "fd map, exec: 67 inherited lower fds in 65 open file descriptions cross exec; a dup pair read after the copy-up still shares its offset (overlayfs oracle)" {
	exec_many overlayfs 63
}

@test "fd map, exec: 200 inherited lower fds in 198 open file descriptions cross exec; dup pairs still share their offset (shim)" {
	exec_many shim 196
}

@test "fd map, exec: 200 inherited lower fds in 198 open file descriptions cross exec; dup pairs still share their offset (overlayfs oracle)" {
	exec_many overlayfs 196
}

# Fds placed in a child between its start and its exec: by posix_spawn
# file actions (libc's internal calls, which no wrapper sees), or by a
# vfork child itself (it shares the parent's memory, so it keeps no map of
# its own), as shells do for redirections: a dup2 of the lower fd (the
# original closed), a new open of the lower file.
fresh_placed() {
	local mode=$1 what=$2 how off
	shift 2
	lowers "$@"
	use_union "$mode"
	for how in "$@"; do
		off=2
		case $how in
		*open | sh-redirect) off=0 ;; # a new open file description
		esac
		drive "copyup $how" -- "${RUN[@]}" "$(probe fdmap_probe)" spawn "$how" "$U/$how"
		expect "Fresh data, fd map across $what ($how): the child's fd on the lower file reads the copy after another process copied it up" \
			"$(spawn_want "$how" "$off")" "$OUT"
		expect_status "spawn $how"
	done
	verdict
}

@test "fd map, posix_spawn file actions: an fd placed by adddup2 or addopen reads the copy in the child (shim)" {
	fresh_placed shim "posix_spawn file actions" posix_spawn+adddup2 posix_spawn+addopen
}

@test "fd map, posix_spawn file actions: an fd placed by adddup2 or addopen reads the copy in the child (overlayfs oracle)" {
	fresh_placed overlayfs "posix_spawn file actions" posix_spawn+adddup2 posix_spawn+addopen
}

@test "fd map, vfork and sh redirections: an fd a vfork child dup2s or opens before its exec, or a redirection sh sets up, reads the copy in the child (shim)" {
	fresh_placed shim "a vfork child's own dup2/open, an sh redirection" vfork+dup2 vfork+open sh-redirect
}

@test "fd map, vfork and sh redirections: an fd a vfork child dup2s or opens before its exec, or a redirection sh sets up, reads the copy in the child (overlayfs oracle)" {
	fresh_placed overlayfs "a vfork child's own dup2/open, an sh redirection" vfork+dup2 vfork+open sh-redirect
}

# ---- 5. threads ----

THREADS_WANT="thread 1 before: read A ol, read dup B d 
thread 2: opened O_RDWR and wrote
thread 1 after: sendfile A $NEW
thread 1 after: pread A $NEW, read A DA, read dup B TA, fstat B 18, write A EBADF"

fresh_threads() {
	lowers f
	use_union "$1"
	drive -- "${RUN[@]}" "$(probe fdmap_probe)" threads "$U/f"
	expect "Fresh data, fd map with threads: when thread 2 copies a file up (O_RDWR open) and writes it, thread 1's older O_RDONLY fd and its dup are on the copy at once (sendfile, which no wrapper sees, reads it) and read it (pread, read continuing at the shared offset, fstat), still read-only" \
		"$THREADS_WANT" "$OUT"
	expect_status threads
	expect "the copy-up put the new data in the upper" "$NEW_RAW." "$(cat "$UPPER/f"; echo .)"
	verdict
}

@test "fd map, threads: a copy-up by one thread moves another thread's older fds at once (shim)" {
	fresh_threads shim
}

@test "fd map, threads: a copy-up by one thread moves another thread's older fds at once (overlayfs oracle)" {
	fresh_threads overlayfs
}

# ---- 6. reused numbers ----

REUSE_WANT="F3 before: read ol
closefrom: a pipe took both numbers: yes
F1 before: read ol
close: a pipe took both numbers: yes
F2 before: pread $OLD
close_range: a socketpair and a memfd took the numbers: yes
F4 before: read ol
F5 before: read ol
unseen close: a pipe took the number: yes
ready copy-up
control fd on F6: pread $NEW
pipe on F3's numbers after closefrom: fifo, read closefrom pipe data\\n
pipe on F1's numbers after close: fifo, read pipe data\\n
socket on F2's numbers after close_range: socket, read socket data\\n
memfd on F2's number after close_range: size 11, pread memfd data\\n
pipe dup2'd over F4's fd: fifo, read dup2 pipe data\\n
pipe on F5's number after an unseen close: fifo, read unseen close pipe data\\n
fd 3 from the test, on the lower file itself: pread $OLD, fstat 9"

reuse_numbers() {
	lowers r1 r2 r3 r4 r5 r6
	use_union "$1"
	DRIVE_FD3=$LOWER/r1 drive "copyup r1 r2 r3 r4 r5 r6" -- \
		"${RUN[@]}" "$(probe fdmap_probe)" reuse "$U/r1" "$U/r2" "$U/r3" "$U/r4" "$U/r5" "$U/r6" 3
	expect "Fresh data, fd map: numbers of union fds closed by closefrom, close, close_range, dup2 over them, or a close no wrapper saw, then taken by pipes, a socketpair and a memfd, are never switched to the copy when the files are copied up (each reads its own data); an fd the program never opened (on the lower file itself, from the test) is left alone; an fd still open on a union file reads the copy" \
		"$REUSE_WANT" "$OUT"
	expect_status reuse
	verdict
}

@test "fd map, reuse: pipes, sockets and memfds on numbers of closed union fds (close, close_range, closefrom, dup2, an unseen close) are never switched, nor an fd the program never opened (shim)" {
	reuse_numbers shim
}

@test "fd map, reuse: pipes, sockets and memfds on numbers of closed union fds (close, close_range, closefrom, dup2, an unseen close) are never switched, nor an fd the program never opened (overlayfs oracle)" {
	reuse_numbers overlayfs
}

# ---- 7. flock across fork ----

HELD="flock-ex busy
ofd-w busy getlk=F_RDLCK/-1"
FLOCKFORK_WANT="flock LOCK_EX through A: locked
F_OFD_SETLK F_RDLCK through A: locked
ready parent and child hold A
$HELD
parent: close A: closed
ready only the child holds A
$HELD
child: dup A: ok
child: close A: closed
ready child holds only the dup of A
$HELD
child: close the dup: closed
ready child closed its last fd of A (and is still running)
flock-ex free
ofd-w free getlk=F_UNLCK
child exit 0"

locks_fork() {
	lowers f
	use_union "$1"
	drive "try_locks f flock-ex ofd-w" "try_locks f flock-ex ofd-w" \
		"try_locks f flock-ex ofd-w" "try_locks f flock-ex ofd-w" -- \
		"${RUN[@]}" "$(probe fdmap_probe)" flockfork "$U/f"
	expect "Locks, fd map across fork: a flock LOCK_EX and an OFD read lock taken through fd A (O_RDONLY, lower file) stay held while any fd of A's open file description is open: after the parent closed A, in the forked child that inherited it, then through the child's dup of it; another process that copies the file up gets EWOULDBLOCK; they go when the child closes its last fd (not at its exit)" \
		"$FLOCKFORK_WANT" "$OUT"
	expect_status flockfork
	expect "the lock attempts (O_RDWR) copied the file up" "old data" "$(cat "$UPPER/f" 2>&1)"
	verdict
}

@test "fd map, locks: a flock and an OFD lock stay held by a forked child's inherited fd after the parent closes it, and go with the child's last fd (shim)" {
	locks_fork shim
}

@test "fd map, locks: a flock and an OFD lock stay held by a forked child's inherited fd after the parent closes it, and go with the child's last fd (overlayfs oracle)" {
	locks_fork overlayfs
}

# Locks across exec with many inherited fds: the lock proxy of each open
# file description crosses exec with the map; 70 other fds on a lower file
# (unlocked, or each with a flock of its own) are well within the README's
# budget of fds that cross.
lockmany_want() {
	echo "70 other fds open$1; flock LOCK_EX through A: locked"
	echo "F_OFD_SETLK F_RDLCK through A: locked"
	echo "ready exec'd, A still open"
	echo "$HELD"
	echo "close A: closed"
	echo "ready A closed (the program still runs)"
	echo "flock-ex free"
	echo "ofd-w free getlk=F_UNLCK"
}

locks_exec_many() {
	local others note
	lowers f g
	use_union "$1"
	for others in unlocked locked; do
		note=
		[ "$others" = locked ] && note=", each with a flock"
		drive "try_locks f flock-ex ofd-w" "try_locks f flock-ex ofd-w" -- \
			"${RUN[@]}" "$(probe fdmap_probe)" lockmany "$U/f" "$U/g" 70 "$others"
		expect "Locks, fd map across exec: a flock LOCK_EX and an OFD read lock taken through fd A, after 70 other fds on a lower file ($others), survive the exec (another process gets EWOULDBLOCK), and go when the exec'd program closes A, its last fd (not at its exit)" \
			"$(lockmany_want "$note")" "$OUT"
		expect_status "lockmany $others"
	done
	verdict
}

@test "fd map, locks across exec: with 70 other inherited fds (with or without locks), a flock and an OFD lock survive exec and go when the exec'd program closes the fd (shim)" {
	locks_exec_many shim
}

@test "fd map, locks across exec: with 70 other inherited fds (with or without locks), a flock and an OFD lock survive exec and go when the exec'd program closes the fd (overlayfs oracle)" {
	locks_exec_many overlayfs
}
