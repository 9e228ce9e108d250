#!/usr/bin/env bats
# Promise (semantics.md "Fresh data", "Locks", "No needless copy-up",
# "Processes"): an fd opened on a lower file before a copy-up reads the
# copy after it, at once in the copying process (stdio streams included)
# and at the next read/readv/pread/lseek/fstat/mmap in any other process,
# also across exec; fcntl record locks, OFD locks, flock and lockf taken
# before a copy-up conflict with ones asked for after it (and the other way
# round), are released as POSIX says (record locks on any close of the
# file, flock/OFD locks with the last fd of their open file description,
# never by closefrom/close_range/dup2 of other fds) and survive exec;
# sqlite3 databases stay whole under concurrent writers and a reader from
# before the copy-up; read-only access, locks on read-only fds included,
# copies nothing up.
#
# Each scenario is written once, as a function of the union dir $U and a
# command prefix RUN, and runs twice: "(shim)" with RUN=in_union, and
# "(overlayfs oracle)" with RUN=env on a kernel overlayfs mount of the same
# layers (index=on,xino=on), skipped where overlayfs cannot be mounted.
# Where kernel overlayfs itself breaks the promise (mmap of an fd opened
# before the copy-up maps the stale lower file) only the shim half exists.
# Processes coordinate through fifos: a holder (a probe's "serve" mode, or
# sqlite3) reads one command a line and answers one line; nothing sleeps.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/oracle

setup() {
	make_layers
	printf 'old data\n' >"$LOWER/f"
	printf 'old data\n' >"$LOWER/g"
	HFDS=()
	HPIDS=()
	BROKEN=()
	trap '' PIPE # a dead holder fails the test, it does not kill bats
}

teardown() {
	stop_holders
	unmount_union
}

# hold NAME CMD...: start CMD with stdin and stdout on two fifos (not
# holding any other holder's fifo); `ask NAME LINE` then sends it one line
# and prints its one-line answer. stop_holders closes the fifos (EOF: the
# holders exit) and waits for them.
hold() {
	local name=$1 base=$BATS_TEST_TMPDIR/holder.$1 in out f
	shift
	mkfifo "$base.in" "$base.out"
	(
		for f in "${HFDS[@]}"; do
			exec {f}>&-
		done
		"$@"
	) <"$base.in" >"$base.out" 2>"$base.err" 3>&- &
	HPIDS+=($!)
	exec {in}>"$base.in" {out}<"$base.out"
	HFDS+=("$in" "$out")
	printf -v "HIN_$name" %s "$in"
	printf -v "HOUT_$name" %s "$out"
}

ask() {
	local name=$1 in out line
	shift
	in=HIN_$name
	out=HOUT_$name
	# the timeout only bounds a hung holder; no step waits on it
	if ! printf '%s\n' "$*" >&"${!in}" 2>/dev/null ||
		! IFS= read -r -t 20 -u "${!out}" line; then
		echo "holder $name gave no answer to '$*'; its stderr:" >&2
		cat "$BATS_TEST_TMPDIR/holder.$name.err" >&2
		echo "(no answer)"
		return 1
	fi
	printf '%s\n' "$line"
}

stop_holders() {
	local f p
	for f in "${HFDS[@]}"; do
		exec {f}>&-
	done
	HFDS=()
	for p in "${HPIDS[@]}"; do
		# a watchdog only: a holder exits at once at EOF unless it hangs
		if ! timeout 10 tail --pid="$p" -s 0.05 -f /dev/null; then
			echo "holder $p still runs 10 s after EOF: killed" >&2
			pkill -KILL -P "$p" || true
			kill -KILL "$p" 2>/dev/null || true
		fi
		wait "$p" || true
	done
	HPIDS=()
}

in_upper() {
	if [ -f "$UPPER/$1" ]; then echo "in the upper"; else echo "not in the upper"; fi
}

upper_names() {
	(cd "$UPPER" && find . -mindepth 1 | LC_ALL=C sort)
}

# ---- fresh data ----

NEW='NEW data\nappended\n' # escaped as the probes print it

# The probe's lines without its mmap ones (kernel overlayfs maps the lower
# file an older fd was opened on, see the shim-only test below).
SAME_WANT="before read A: old data\\n
before fread: old data\\n
pread P: $NEW
fstat P: 18
read A (continued): appended\\n
lseek A SEEK_END: 18
lseek A 0, read: $NEW
fseek F 0, fread: $NEW
write A: EBADF
pread P after a second pwrite: N3W data\\nappended\\n"

fresh_same() {
	use_union "$1"
	run "${RUN[@]}" "$(probe fresh_probe)" same "$U/f"
	expect "Fresh data: the process that copies up (O_RDWR pwrite, then O_APPEND) reads the copy at once through its older O_RDONLY fds (read, pread, lseek, fstat) and its unbuffered stdio stream; the older fd stays read-only" \
		"$SAME_WANT" "$(grep -v '^mmap' <<<"$output")"
	expect "the copy-up put the new data in the upper" "N3W data appended" "$(tr '\n' ' ' <"$UPPER/f" | sed 's/ $//')"
	verdict
}

@test "fresh reads in the copying process: older fds and stdio see the copy (shim)" {
	fresh_same shim
}

@test "fresh reads in the copying process: older fds and stdio see the copy (overlayfs oracle)" {
	fresh_same overlayfs
}

# Rows "WHAT|VIA|BEFORE|WANT BEFORE|AFTER|WANT AFTER": one reader process per
# row opens $U/f O_RDONLY, runs BEFORE on the fd ("-": nothing), execs
# itself when VIA is exec, and runs AFTER once another process has copied
# the file up and written it. FD in a command is the fd's number.
FRESH_ROWS=(
	"read (continuing at the old EOF)|plain|read FD|data old data\\n|read FD|data appended\\n"
	"readv|plain|-|-|readv FD|data $NEW"
	"pread|plain|pread FD|data old data\\n|pread FD|data $NEW"
	"lseek 0 then read|plain|read FD|data old data\\n|seekread FD|data $NEW"
	"lseek SEEK_END|plain|seekend FD|size 9|seekend FD|size 18"
	"fstat|plain|fstat FD|size 9|fstat FD|size 18"
	"sendfile|plain|-|-|sendfile FD|data $NEW"
)
EXEC_ROWS=("${FRESH_ROWS[@]/|plain|/|exec|}")
MMAP_ROWS=(
	"mmap MAP_SHARED|plain|-|-|mmap FD shared 18|data $NEW"
	"mmap MAP_PRIVATE|plain|-|-|mmap FD private 18|data $NEW"
	"mmap MAP_SHARED after a read|plain|pread FD|data old data\\n|mmap FD shared 18|data $NEW"
	"mmap MAP_SHARED|exec|-|-|mmap FD shared 18|data $NEW"
	"mmap MAP_PRIVATE|exec|-|-|mmap FD private 18|data $NEW"
)

fresh_other() {
	local mode=$1 row what via before bwant after awant fd i
	local -a fds=()
	shift
	use_union "$mode"
	i=0
	for row in "$@"; do
		IFS='|' read -r what via before bwant after awant <<<"$row"
		hold "r$i" "${RUN[@]}" "$(probe fresh_probe)" serve
		fd=$(ask "r$i" open "$U/f")
		fds[i]=${fd#fd }
		if [ "$before" != - ]; then
			expect "setup: $what before the copy-up reads the lower file" "$bwant" \
				"$(ask "r$i" "${before/FD/${fds[i]}}")"
		fi
		if [ "$via" = exec ]; then
			expect "setup: the reader re-executes itself, its fd kept" "exec'd" "$(ask "r$i" exec)"
		fi
		i=$((i + 1))
	done
	# another process copies up (O_RDWR, pwrite) and appends (O_APPEND)
	"${RUN[@]}" "$(probe fresh_probe)" write "$U/f" 0 NEW
	"${RUN[@]}" sh -c 'echo appended >>"$1"' sh "$U/f"
	expect "the copy-up put the new data in the upper" "NEW data appended" "$(tr '\n' ' ' <"$UPPER/f" | sed 's/ $//')"
	i=0
	for row in "$@"; do
		IFS='|' read -r what via before bwant after awant <<<"$row"
		local how="an fd opened before the copy-up"
		[ "$via" = exec ] && how="an fd opened before the copy-up and before an exec"
		expect "Fresh data: $what through $how, in another process, sees the copy" "$awant" \
			"$(ask "r$i" "${after/FD/${fds[i]}}")"
		i=$((i + 1))
	done
	verdict
}

@test "fresh reads in another process: read, readv, pread, lseek, fstat, sendfile see the copy (shim)" {
	fresh_other shim "${FRESH_ROWS[@]}"
}

@test "fresh reads in another process: read, readv, pread, lseek, fstat, sendfile see the copy (overlayfs oracle)" {
	fresh_other overlayfs "${FRESH_ROWS[@]}"
}

@test "fresh reads through an fd opened before an exec: read, readv, pread, lseek, fstat, sendfile see the copy (shim)" {
	fresh_other shim "${EXEC_ROWS[@]}"
}

@test "fresh reads through an fd opened before an exec: read, readv, pread, lseek, fstat, sendfile see the copy (overlayfs oracle)" {
	fresh_other overlayfs "${EXEC_ROWS[@]}"
}

# Shim only: kernel overlayfs (ovl_mmap) maps the real file the fd was
# opened on, so a mapping made after the copy-up through an older fd shows
# the stale lower data there; semantics.md goes past overlayfs here.
@test "fresh mmap: a mapping made after the copy-up through an older fd shows the copy, in the copying process and in others, also after exec (shim only)" {
	run in_union "$(probe fresh_probe)" same "$TARGET/g"
	expect "Fresh data: the copying process maps the copy through its older O_RDONLY fds (MAP_SHARED, MAP_PRIVATE)" \
		"mmap P shared: $NEW
mmap A private: $NEW" "$(grep '^mmap' <<<"$output")"
	fresh_other shim "${MMAP_ROWS[@]}" # on f
}

# ---- locks across copy-up ----

try_locks() {
	"${RUN[@]}" "$(probe lock_probe)" try "$U/f" "$@" 2>&1 || true
}

# start_locker NAME: a lock_probe holder; sets NAME_PID to its pid.
start_locker() {
	local p
	hold "$1" "${RUN[@]}" "$(probe lock_probe)" serve
	p=$(ask "$1" pid)
	printf -v "$1_PID" %s "${p#pid }"
}

fd_of() {
	local r
	r=$(ask "$@")
	[[ $r == "fd "* ]] || { echo "setup: '$*' answered '$r'" >&2; return 1; }
	echo "${r#fd }"
}

locks_posix() {
	use_union "$1"
	start_locker h
	A=$(fd_of h open "$U/f" ro)
	expect "setup: F_SETLK F_RDLCK through an O_RDONLY fd of the lower file" locked "$(ask h lock "$A" posix-r)"
	expect "Locks: a POSIX read lock (F_SETLK) taken before the copy-up blocks F_SETLK F_WRLCK asked by another process after it (EAGAIN), F_GETLK naming the lock and its holder's pid; a read lock is still granted" \
		"posix-w busy getlk=F_RDLCK/$h_PID
posix-r free getlk=F_UNLCK" "$(try_locks rw posix-w posix-r)"
	expect "the O_RDWR open copied the file up" "in the upper" "$(in_upper f)"
	verdict
}

@test "locks: an fcntl read lock from before the copy-up blocks a write lock after it; F_GETLK names the holder (shim)" {
	locks_posix shim
}

@test "locks: an fcntl read lock from before the copy-up blocks a write lock after it; F_GETLK names the holder (overlayfs oracle)" {
	locks_posix overlayfs
}

# A file its first locker makes (a lock file, sqlite's database): the
# locks taken through the fd that made it exclude another process's, as
# on one file. (That fd was left out of the fd map, and its locks went to
# the file where every later open's go to its lock proxy: `flock -n` and
# sqlite excluded no one.)
locks_made_here() {
	use_union "$1"
	start_locker h
	for how in new fopen-w mkstemp; do
		A=$(fd_of h open "$U/made-$how" "$how")
		# (flock locks and fcntl locks do not meet; OFD and POSIX ones do)
		for kind in posix-w:posix-r flock-ex:flock-sh ofd-w:posix-r; do
			held=${kind%:*} other=${kind#*:}
			expect "setup: $held through the fd that made the file ($how)" locked "$(ask h lock "$A" "$held")"
			got=$("${RUN[@]}" "$(probe lock_probe)" try "$U/made-$how" rw "$held" "$other" 2>&1 | sed 's/ getlk=.*//')
			expect "Locks: $held held through the fd that made the file ($how) blocks $held and $other asked by another process through its own open" \
				"$held busy
$other busy" "$got"
			expect "setup: $held released ($how)" unlocked "$(ask h unlock "$A" "$held")"
		done
		expect "a lock freed is free to the other process ($how)" "flock-ex free" \
			"$("${RUN[@]}" "$(probe lock_probe)" try "$U/made-$how" rw flock-ex 2>&1)"
	done
	verdict
}

@test "locks: the fd that made a file (open, fopen, mkstemp: a lock file) excludes another process's locks on it: fcntl, flock, OFD (shim)" {
	locks_made_here shim
}

@test "locks: the fd that made a file (a lock file) excludes another process's locks on it (overlayfs oracle)" {
	locks_made_here overlayfs
}

locks_flock() {
	use_union "$1"
	start_locker h
	A=$(fd_of h open "$U/f" ro)
	expect "setup: flock LOCK_SH through an O_RDONLY fd of the lower file" locked "$(ask h lock "$A" flock-sh)"
	expect "Locks: flock LOCK_SH taken before the copy-up blocks flock LOCK_EX|LOCK_NB asked by another process after it (EWOULDBLOCK); LOCK_SH is still granted" \
		"flock-ex busy
flock-sh free" "$(try_locks rw flock-ex flock-sh)"
	expect "the O_RDWR open copied the file up" "in the upper" "$(in_upper f)"
	expect "setup: the flock is released" unlocked "$(ask h unlock "$A" flock-sh)"
	start_locker w
	B=$(fd_of w open "$U/f" rw)
	expect "setup: flock LOCK_EX after the copy-up" locked "$(ask w lock "$B" flock-ex)"
	expect "Locks: a flock LOCK_EX taken after the copy-up blocks LOCK_SH|LOCK_NB through an fd opened before it" \
		busy "$(ask h try "$A" flock-sh)"
	verdict
}

@test "locks: flock LOCK_SH from before the copy-up blocks LOCK_EX|LOCK_NB after it, and the other way round (shim)" {
	locks_flock shim
}

@test "locks: flock LOCK_SH from before the copy-up blocks LOCK_EX|LOCK_NB after it, and the other way round (overlayfs oracle)" {
	locks_flock overlayfs
}

locks_ofd() {
	use_union "$1"
	start_locker h
	A=$(fd_of h open "$U/f" ro)
	expect "setup: F_OFD_SETLK F_RDLCK through an O_RDONLY fd of the lower file" locked "$(ask h lock "$A" ofd-r)"
	expect "Locks: an OFD read lock taken before the copy-up blocks F_OFD_SETLK and F_SETLK write locks asked by another process after it, F_OFD_GETLK/F_GETLK reporting F_RDLCK with l_pid -1; a read lock is still granted" \
		"ofd-w busy getlk=F_RDLCK/-1
posix-w busy getlk=F_RDLCK/-1
ofd-r free getlk=F_UNLCK" "$(try_locks rw ofd-w posix-w ofd-r)"
	expect "the O_RDWR open copied the file up" "in the upper" "$(in_upper f)"
	expect "setup: the OFD lock is released" unlocked "$(ask h unlock "$A" ofd-r)"
	start_locker w
	B=$(fd_of w open "$U/f" rw)
	expect "setup: F_OFD_SETLK F_WRLCK after the copy-up" locked "$(ask w lock "$B" ofd-w)"
	expect "Locks: an OFD write lock taken after the copy-up blocks an OFD read lock asked through an fd opened before it" \
		"busy getlk=F_WRLCK/-1" "$(ask h try "$A" ofd-r)"
	verdict
}

@test "locks: an OFD read lock from before the copy-up blocks write locks after it; F_OFD_GETLK reports pid -1; and the other way round (shim)" {
	locks_ofd shim
}

@test "locks: an OFD read lock from before the copy-up blocks write locks after it; F_OFD_GETLK reports pid -1; and the other way round (overlayfs oracle)" {
	locks_ofd overlayfs
}

# lockf takes write locks only, so it needs a writable fd, and opening one
# copies the file up: the lock taken before the copy-up is an fcntl read
# lock through an O_RDONLY fd, and lockf asks after it (F_TLOCK); then, the
# other way round, a lockf lock taken after the copy-up is seen through the
# fd opened before it (F_GETLK, and lockf F_TEST, which works on a
# read-only fd).
locks_lockf() {
	use_union "$1"
	start_locker h
	A=$(fd_of h open "$U/f" ro)
	expect "setup: F_SETLK F_RDLCK through an O_RDONLY fd of the lower file" locked "$(ask h lock "$A" posix-r)"
	expect "Locks: lockf(F_TLOCK) asked after the copy-up fails (EAGAIN/EACCES) while a record lock from before it is held" \
		"lockf busy" "$(try_locks rw lockf)"
	expect "the O_RDWR open copied the file up" "in the upper" "$(in_upper f)"
	expect "setup: the read lock is released" unlocked "$(ask h unlock "$A" posix-r)"
	start_locker w
	B=$(fd_of w open "$U/f" rw)
	expect "setup: lockf(F_TLOCK) after the copy-up" locked "$(ask w lock "$B" lockf)"
	expect "Locks: a lockf lock taken after the copy-up is seen through an fd opened before it (F_GETLK F_RDLCK: busy, F_WRLCK held by the lockf process)" \
		"busy getlk=F_WRLCK/$w_PID" "$(ask h try "$A" posix-r)"
	expect "Locks: lockf(F_TEST) through the fd opened before the copy-up sees the lockf lock taken after it" \
		"busy" "$(ask h try "$A" lockf-test)"
	expect "setup: closing the lockf process's fd" closed "$(ask w close "$B")"
	expect "Locks: the lockf lock is gone once its process closed the fd; the older fd sees no lock" \
		"free getlk=F_UNLCK" "$(ask h try "$A" posix-r)"
	verdict
}

@test "locks: lockf after the copy-up meets a record lock from before it, and the other way round (shim)" {
	locks_lockf shim
}

@test "locks: lockf after the copy-up meets a record lock from before it, and the other way round (overlayfs oracle)" {
	locks_lockf overlayfs
}

# ---- release follows POSIX ----

release_any_close() {
	use_union "$1"
	start_locker h
	A=$(fd_of h open "$U/f" ro)
	B=$(fd_of h open "$U/f" ro)
	expect "setup: F_SETLK F_RDLCK through fd A" locked "$(ask h lock "$A" posix-r)"
	expect "setup: flock LOCK_SH through fd A" locked "$(ask h lock "$A" flock-sh)"
	expect "Locks: the record lock and the flock taken through fd A before the copy-up block write locks after it" \
		"posix-w busy getlk=F_RDLCK/$h_PID
flock-ex busy" "$(try_locks rw posix-w flock-ex)"
	expect "setup: close fd B" closed "$(ask h close "$B")"
	expect "Locks, release: closing another fd of the file (B, opened before the copy-up) drops the process's record locks (POSIX); the flock of A's open file description stays" \
		"posix-w free getlk=F_UNLCK
flock-ex busy" "$(try_locks rw posix-w flock-ex)"
	verdict
}

@test "locks release: closing any fd of the file drops the record locks, not the flock (shim)" {
	release_any_close shim
}

@test "locks release: closing any fd of the file drops the record locks, not the flock (overlayfs oracle)" {
	release_any_close overlayfs
}

release_last_fd() {
	use_union "$1"
	start_locker h
	A=$(fd_of h open "$U/f" ro)
	expect "setup: flock LOCK_SH through fd A" locked "$(ask h lock "$A" flock-sh)"
	expect "setup: F_OFD_SETLK F_RDLCK through fd A" locked "$(ask h lock "$A" ofd-r)"
	expect "Locks: the flock and the OFD lock taken before the copy-up block write locks after it" \
		"flock-ex busy
ofd-w busy getlk=F_RDLCK/-1" "$(try_locks rw flock-ex ofd-w)"
	A2=$(fd_of h dup "$A")
	expect "setup: close fd A (its dup A2 stays)" closed "$(ask h close "$A")"
	expect "Locks, release: flock and OFD locks stay while a dup of the fd keeps their open file description" \
		"flock-ex busy
ofd-w busy getlk=F_RDLCK/-1" "$(try_locks rw flock-ex ofd-w)"
	expect "setup: close A2, the last fd" closed "$(ask h close "$A2")"
	expect "Locks, release: flock and OFD locks go with the last fd of their open file description" \
		"flock-ex free
ofd-w free getlk=F_UNLCK" "$(try_locks rw flock-ex ofd-w)"
	verdict
}

@test "locks release: flock and OFD locks go with the last fd of their open file description (shim)" {
	release_last_fd shim
}

@test "locks release: flock and OFD locks go with the last fd of their open file description (overlayfs oracle)" {
	release_last_fd overlayfs
}

release_mass_close() {
	local r
	use_union "$1"
	start_locker h
	A=$(fd_of h open "$U/f" ro)
	expect "setup: F_SETLK F_RDLCK through fd A" locked "$(ask h lock "$A" posix-r)"
	expect "setup: flock LOCK_SH through fd A" locked "$(ask h lock "$A" flock-sh)"
	local held="posix-w busy getlk=F_RDLCK/$h_PID
flock-ex busy"
	expect "Locks: the record lock and the flock from before the copy-up block write locks after it" \
		"$held" "$(try_locks rw posix-w flock-ex)"
	expect "setup: closefrom(A+1)" closed "$(ask h closefrom $((A + 1)))"
	expect "Locks, Processes: closefrom() of the fds above the lock's fd drops neither lock (nor any fd the shim keeps for them)" \
		"$held" "$(try_locks rw posix-w flock-ex)"
	expect "setup: close_range(A+1, ~0U, 0)" closed "$(ask h close_range $((A + 1)))"
	expect "Locks, Processes: close_range() of the fds above the lock's fd drops neither lock" \
		"$held" "$(try_locks rw posix-w flock-ex)"
	r=$(ask h dup2many "$A" 3 1023)
	[[ $r == "closed "* ]] || BROKEN+=("setup: dup2 of fd A onto every free fd 3..1023, then close: $r")
	expect "Locks, release: closing dup2 copies of A (every free fd 3..1023) drops the record lock as POSIX says, but not the flock of A's open file description" \
		"posix-w free getlk=F_UNLCK
flock-ex busy" "$(try_locks rw posix-w flock-ex)"
	expect "the lock holder still works after the mass dup2/close" "pid $h_PID" "$(ask h pid)"
	# OFD locks: also owned by the open file description
	start_locker o
	C=$(fd_of o open "$U/f" ro)
	expect "setup: F_OFD_SETLK F_RDLCK through fd C" locked "$(ask o lock "$C" ofd-r)"
	r=$(ask o dup2many "$C" 3 1023)
	[[ $r == "closed "* ]] || BROKEN+=("setup: dup2 of fd C onto every free fd 3..1023, then close: $r")
	expect "Locks, release: closing dup2 copies of C (every free fd 3..1023) keeps the OFD lock of C's open file description" \
		"ofd-w busy getlk=F_RDLCK/-1" "$(try_locks rw ofd-w)"
	expect "setup: close C" closed "$(ask o close "$C")"
	expect "Locks, release: the OFD lock goes with C, its last fd" \
		"ofd-w free getlk=F_UNLCK" "$(try_locks rw ofd-w)"
	verdict
}

@test "locks release: closefrom, close_range and dup2 over many fds keep the locks they must keep (shim)" {
	release_mass_close shim
}

@test "locks release: closefrom, close_range and dup2 over many fds keep the locks they must keep (overlayfs oracle)" {
	release_mass_close overlayfs
}

locks_exec() {
	use_union "$1"
	start_locker h
	A=$(fd_of h open "$U/f" ro)
	expect "setup: F_SETLK F_RDLCK through fd A (not O_CLOEXEC)" locked "$(ask h lock "$A" posix-r)"
	expect "setup: flock LOCK_SH through fd A" locked "$(ask h lock "$A" flock-sh)"
	expect "setup: the holder re-executes itself" "exec'd" "$(ask h exec)"
	expect "setup: exec keeps the pid" "pid $h_PID" "$(ask h pid)"
	local held="posix-w busy getlk=F_RDLCK/$h_PID
flock-ex busy"
	expect "Locks: a record lock and a flock taken before an exec and before the copy-up still block write locks asked after both" \
		"$held" "$(try_locks rw posix-w flock-ex)"
	expect "setup: the exec'd program closes fd A" closed "$(ask h close "$A")"
	expect "Locks, release: after the exec, closing the inherited fd releases both locks" \
		"posix-w free getlk=F_UNLCK
flock-ex free" "$(try_locks rw posix-w flock-ex)"
	verdict
}

@test "locks survive exec: a record lock and a flock from before exec and copy-up still conflict (shim)" {
	locks_exec shim
}

@test "locks survive exec: a record lock and a flock from before exec and copy-up still conflict (overlayfs oracle)" {
	locks_exec overlayfs
}

# locks_fork: a record lock taken before a fork belongs to the parent;
# the child is another owner, however it was made: glibc's fork (atfork
# handlers run), _Fork and the raw clone syscall (none run).
locks_fork() {
	use_union "$1"
	local how out want
	for how in fork _Fork clone; do
		out=$("${RUN[@]}" "$(probe lock_probe)" forked "$U/f" "$how" posix-w posix-r ofd-w lockf flock-ex 2>&1)
		want="$how new posix-w busy getlk=F_WRLCK/parent
$how new posix-r busy getlk=F_WRLCK/parent
$how new ofd-w busy getlk=F_WRLCK/parent
$how new lockf busy
$how new flock-ex free
$how inherited posix-w busy getlk=F_WRLCK/parent"
		expect "Locks across fork ($how): the parent's fcntl write lock blocks the child's record, OFD and lockf locks through a new O_RDWR fd and through the inherited fd, F_GETLK names the parent; flock is another kind" \
			"$want" "$out"
	done
	expect "the O_RDWR open copied the file up" "in the upper" "$(in_upper f)"
	verdict
}

@test "locks across fork: a record lock from before fork, _Fork or clone conflicts with the child's (shim)" {
	locks_fork shim
}

@test "locks across fork: a record lock from before fork, _Fork or clone conflicts with the child's (overlayfs oracle)" {
	locks_fork overlayfs
}

# ---- sqlite3 ----

make_db() {
	sqlite3 "$LOWER/db" "create table t(id integer primary key, w int, i int);
		with recursive c(x) as (select 1 union all select x + 1 from c where x < 100)
		insert into t(w, i) select 0, x from c;"
	LOWER_SNAP=$(snapshot "$LOWER")
}

# sqlite_writers N ROWS: N sqlite3 processes, released together (each says
# ready on a fifo, then waits for its line on another), each insert ROWS
# rows, one transaction a row. Notes a broken promise per failed writer.
sqlite_writers() {
	local n=$1 rows=$2 w i pids=() rfd gfd
	local go=$BATS_TEST_TMPDIR/go ready=$BATS_TEST_TMPDIR/ready
	mkfifo "$go" "$ready"
	exec {gfd}<>"$go" {rfd}<>"$ready"
	for w in $(seq 1 "$n"); do
		{
			echo ".timeout 20000"
			for i in $(seq 1 "$rows"); do echo "insert into t(w, i) values($w, $i);"; done
		} >"$BATS_TEST_TMPDIR/w$w.sql"
		(
			for f in "${HFDS[@]}"; do
				exec {f}>&-
			done
			echo ready >"$ready"
			read -r _ <"$go"
			"${RUN[@]}" sqlite3 -bail "$U/db" <"$BATS_TEST_TMPDIR/w$w.sql"
		) >"$BATS_TEST_TMPDIR/w$w.out" 2>&1 3>&- &
		pids+=($!)
	done
	for w in $(seq 1 "$n"); do read -r -u "$rfd" _; done
	for w in $(seq 1 "$n"); do echo go >&"$gfd"; done
	for w in $(seq 1 "$n"); do
		wait "${pids[w - 1]}" ||
			BROKEN+=("sqlite3: concurrent writer $w failed: $(cat "$BATS_TEST_TMPDIR/w$w.out")")
	done
	exec {gfd}>&- {rfd}>&-
	rm -f "$go" "$ready"
}

# The database after it all, seen by a new sqlite3: WANT rows, whole, the
# lower untouched.
db_whole() {
	local want=$1
	expect "sqlite3: every committed row is there (100 at first, 50 from each writer)" "$want" \
		"$("${RUN[@]}" sqlite3 "$U/db" "select w, count(*) from t group by w order by w;" 2>&1 | tr '\n' ' ')"
	expect "sqlite3: pragma integrity_check" ok \
		"$("${RUN[@]}" sqlite3 "$U/db" "pragma integrity_check;" 2>&1)"
	expect "Lower layers stay untouched: the lower database (and its dir) is byte-identical" \
		"$LOWER_SNAP" "$(snapshot "$LOWER")"
	expect "the database was copied up" "in the upper" "$(in_upper db)"
}

sqlite_concurrent() {
	make_db
	use_union "$1"
	sqlite_writers 4 50
	db_whole "0|100 1|50 2|50 3|50 4|50 "
	verdict
}

@test "sqlite3: 4 concurrent writers on a lower database, every row there, integrity ok, lower untouched (shim)" {
	sqlite_concurrent shim
}

@test "sqlite3: 4 concurrent writers on a lower database, every row there, integrity ok, lower untouched (overlayfs oracle)" {
	sqlite_concurrent overlayfs
}

# A reader opens the database read-only (O_RDONLY: no copy-up) and holds a
# read transaction (a shared fcntl lock); a writer, the first to copy the
# database up, must then fail to commit (its busy timeout runs out); once
# the reader ends its transaction 4 writers insert 200 rows, and the reader,
# through its fd from before the copy-up, sees them all.
sqlite_reader() {
	local extra=0 got
	make_db
	use_union "$1"
	hold rd "${RUN[@]}" sqlite3 -readonly -cmd ".timeout 20000" "$U/db"
	expect "setup: the reader's first read transaction (before any copy-up)" 100 \
		"$(ask rd "BEGIN; SELECT count(*) FROM t;")"
	run "${RUN[@]}" sqlite3 "$U/db" ".timeout 300" "insert into t(w, i) values(9, 0);"
	if [ "$status" -ne 0 ] && [[ $output == *"database is locked"* ]]; then
		got="refused: database is locked"
	else
		got="status $status: $output"
		[ "$status" -ne 0 ] || extra=1
	fi
	expect "Locks (sqlite3): a writer that copies the database up cannot commit while a reader that opened it before holds a read transaction (shared lock)" \
		"refused: database is locked" "$got"
	expect "setup: the reader ends its transaction" ended "$(ask rd "COMMIT; SELECT 'ended';")"
	sqlite_writers 4 50
	expect "Fresh data (sqlite3): a reader that opened the database before the copy-up sees every row written after it" \
		"$((300 + extra))" "$(ask rd "SELECT count(*) FROM t;")"
	if [ "$extra" = 1 ]; then
		db_whole "0|100 1|50 2|50 3|50 4|50 9|1 "
	else
		db_whole "0|100 1|50 2|50 3|50 4|50 "
	fi
	verdict
}

@test "sqlite3: a reader from before the copy-up holds writers off with its shared lock, then sees their rows (shim)" {
	sqlite_reader shim
}

@test "sqlite3: a reader from before the copy-up holds writers off with its shared lock, then sees their rows (overlayfs oracle)" {
	sqlite_reader overlayfs
}

# ---- no needless copy-up ----

# Every call fresh_probe readonly makes, each must succeed. (Private
# writable mappings: copyup.bats runs copyup_mmap.)
READONLY_WANT="stat: ok
lstat: ok
fstatat: ok
statx: ok
access F_OK: ok
access R_OK: ok
access W_OK: ok
faccessat W_OK AT_EACCESS: ok
access W_OK dir: ok
readlink: ok
realpath: ok
getxattr: ok
listxattr: ok
open O_RDONLY, read: ok
open O_RDONLY|O_CREAT of an existing file: ok
open O_PATH: ok
fchmod of an O_PATH fd: EBADF
fchown of an O_PATH fd: EBADF
fsetxattr of an O_PATH fd: EBADF
fremovexattr of an O_PATH fd: EBADF
futimens of an O_PATH fd: EBADF
ftruncate of an O_PATH fd: EBADF
ftruncate of an O_RDONLY fd: EINVAL
open dir O_RDONLY: ok
fopen r, fgets: ok
fopen re, fread: ok
opendir, readdir: ok
opendir sub: ok
flock LOCK_SH on an O_RDONLY fd: ok
F_SETLK F_RDLCK on an O_RDONLY fd: ok
F_OFD_SETLK F_RDLCK on an O_RDONLY fd: ok
F_GETLK on an O_RDONLY fd: ok
posix_fadvise: ok
chdir sub: ok
getcwd: ok"

no_copyup() {
	mkdir -p "$LOWER/d/sub"
	echo "lower data" >"$LOWER/d/f"
	echo g >"$LOWER/d/sub/g"
	ln -s f "$LOWER/d/link"
	setfattr -n user.k -v v "$LOWER/d/f"
	use_union "$1"
	run "${RUN[@]}" "$(probe fresh_probe)" readonly "$U/d"
	expect "every read-only call succeeds" "$READONLY_WANT" "$output"
	expect "No needless copy-up: stat, access (W_OK too), readlink, xattr reads, O_RDONLY (also with O_CREAT of an existing file), O_PATH (and changes through it: EBADF), fopen r, opendir, chdir, and flock/fcntl/OFD read locks on read-only fds copy nothing up" \
		"" "$(upper_names)"
	verdict
}

@test "no needless copy-up: read-only calls and read locks on read-only fds leave the upper empty (shim)" {
	no_copyup shim
}

@test "no needless copy-up: read-only calls and read locks on read-only fds leave the upper empty (overlayfs oracle)" {
	no_copyup overlayfs
}
