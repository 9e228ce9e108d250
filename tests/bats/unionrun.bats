#!/usr/bin/env bats
# unionrun: options, defaults, exit statuses, finding the library, and the
# README's quick start (a real build reading its tree through a union).

load ../lib/common
bats_require_minimum_version 1.5.0

setup() {
	make_layers
	mkdir -p "$LOWER/sub"
	echo lower > "$LOWER/sub/file"
	echo bottom > "$LOWER2/bottom"
}

@test "the command's exit status is unionrun's" {
	run "$UNIONRUN" --lower "$LOWER" -- sh -c 'exit 7'
	[ "$status" -eq 7 ]
}

@test "--at shows the union at another path; --lower repeats topmost first" {
	echo top > "$LOWER/bottom"
	run "$UNIONRUN" --lower "$LOWER" --lower "$LOWER2" --at "$TARGET" -- cat "$TARGET/bottom" "$TARGET/sub/file"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = top ]
	[ "${lines[1]}" = lower ]
}

@test "--at defaults to the first lower (in place)" {
	echo gone > "$LOWER/hidden"
	: > "$UPPER/.wh.hidden"
	run "$UNIONRUN" --lower "$LOWER" --upper "$UPPER" --work "$WORK" -- ls "$LOWER"
	[ "$status" -eq 0 ]
	[ "$output" = sub ]
}

@test "-o takes overlayfs options and defaults the target to its first lowerdir" {
	echo gone > "$LOWER/hidden"
	: > "$UPPER/.wh.hidden"
	run "$UNIONRUN" -o "lowerdir=$LOWER:$LOWER2,upperdir=$UPPER,workdir=$WORK" -- ls "$LOWER"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'bottom\nsub')" ]
}

@test "-C changes into a union dir that exists only in the union" {
	run "$UNIONRUN" --lower "$LOWER" --at "$TARGET" -C "$TARGET/sub" -- sh -c 'pwd; cat file'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$TARGET/sub" ]
	[ "${lines[1]}" = lower ]
}

@test "a command found only in the union runs (PATH search through the union)" {
	mkdir -p "$LOWER/bin"
	printf '#!/bin/sh\necho from-union\n' > "$LOWER/bin/hello"
	chmod +x "$LOWER/bin/hello"
	PATH="$TARGET/bin:$PATH" run "$UNIONRUN" --lower "$LOWER" --at "$TARGET" -- hello
	[ "$status" -eq 0 ]
	[ "$output" = from-union ]
}

@test "exit 127 when the command is not found, 126 when it cannot run" {
	run -127 "$UNIONRUN" --lower "$LOWER" -- no-such-command-here
	[ "$status" -eq 127 ]
	[[ "$output" == "unionrun: no-such-command-here: "* ]]
	run -126 "$UNIONRUN" --lower "$LOWER" -- "$LOWER/sub/file"
	[ "$status" -eq 126 ]
}

@test "bad input: one line, exit 125, nothing created in the layers" {
	before=$(snapshot "$ROOT")
	run "$UNIONRUN" --lower "$ROOT/missing" -- true
	[ "$status" -eq 125 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == "unionrun: lowerdir $ROOT/missing: No such file or directory" ]]
	run "$UNIONRUN" --lower "$LOWER" --upper "$LOWER/sub" --work "$WORK" -- true
	[ "$status" -eq 125 ]
	[[ "$output" == *"is inside lowerdir"* ]]
	run "$UNIONRUN" --lower "$LOWER" --upper "$UPPER" -- true
	[ "$status" -eq 125 ]
	run "$UNIONRUN" -o "lowerdir=$LOWER,metacopy=on" -- true
	[ "$status" -eq 125 ]
	[[ "$output" == *"unknown option 'metacopy'"* ]]
	run "$UNIONRUN" --lower "$LOWER"
	[ "$status" -eq 125 ]
	[ "$(snapshot "$ROOT")" = "$before" ]
}

@test "unionrun's messages stay one line when a path holds a newline" {
	run "$UNIONRUN" --lower "$ROOT/"$'no\nsuch' -- true
	[ "$status" -eq 125 ]
	[ "$output" = "unionrun: lowerdir $ROOT/no\\nsuch: No such file or directory" ]
	run -127 "$UNIONRUN" --lower "$LOWER" -- $'no\nsuch'
	[ "$output" = "unionrun: no\\nsuch: No such file or directory" ]
}

@test "a refused configuration creates no --upper or --work dir" {
	before=$(snapshot "$ROOT")
	run "$UNIONRUN" --lower "$LOWER" --upper "$LOWER/newup" --work "$ROOT/newwork" -- true
	[ "$status" -eq 125 ]
	[ "$output" = "unionrun: upperdir $LOWER/newup is inside lowerdir $LOWER" ]
	run "$UNIONRUN" --lower "$LOWER" --upper "$ROOT/newup" --work "$LOWER/sub/newwork" -- true
	[ "$status" -eq 125 ]
	[ "$output" = "unionrun: workdir $LOWER/sub/newwork is inside lowerdir $LOWER" ]
	run "$UNIONRUN" --lower "$LOWER" --upper "$ROOT/newup" --work "$ROOT/newup/w" -- true
	[ "$status" -eq 125 ]
	[ "${#lines[@]}" -eq 1 ]
	run "$UNIONRUN" --lower "$LOWER" --upper "$ROOT/newup" --work "$ROOT/newwork" -o bogus=1 -- true
	[ "$status" -eq 125 ]
	[[ "$output" == *"unknown option 'bogus'"* ]]
	UNIONSHIM_LIBRARY=$ROOT/nolib run "$UNIONRUN" --lower "$LOWER" --upper "$ROOT/newup" --work "$ROOT/newwork" -- true
	[ "$status" -eq 125 ]
	[ "$(snapshot "$ROOT")" = "$before" ]
	if [ -d /dev/shm ] && [ "$(stat -c %d /dev/shm)" != "$(stat -c %d "$ROOT")" ]; then
		w=$(mktemp -d /dev/shm/us-work.XXXXXX)
		run "$UNIONRUN" --lower "$LOWER" --upper "$ROOT/newup" --work "$w/new" -- true
		[ "$status" -eq 125 ]
		[[ "$output" == *"is not on the filesystem of upperdir $ROOT/newup"* ]]
		[ ! -e "$w/new" ]
		rmdir "$w"
	fi
	[ "$(snapshot "$ROOT")" = "$before" ]
	# a good one creates both, at the paths it validated
	run "$UNIONRUN" --lower "$LOWER" --upper "$ROOT/newup/" --work "$ROOT/./newwork" -- sh -c "echo hi > '$LOWER/new'"
	[ "$status" -eq 0 ]
	[ "$(cat "$ROOT/newup/new")" = hi ]
	[ -d "$ROOT/newwork" ]
	[ ! -e "$LOWER/new" ]
}

@test "many long --lower dirs: a configuration past 64 KiB still runs" {
	local deep=$ROOT/deep i args=()
	for i in $(seq 1 16); do deep+=/$(printf 'd%.0s' $(seq 1 100)); done
	for i in $(seq 1 45); do
		mkdir -p "$deep/l$i"
		args+=(--lower "$deep/l$i")
	done
	echo bottom > "$deep/l45/f"
	run "$UNIONRUN" "${args[@]}" --at "$TARGET" -- cat "$TARGET/f"
	[ "$status" -eq 0 ]
	[ "$output" = bottom ]
}

@test "--help shows examples" {
	run "$UNIONRUN" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"Examples:"* ]]
	[[ "$output" == *"unionrun --lower"* ]]
	# an example for each workflow, and each option described
	for opt in --diff --commit --discard --keep --mount --trace; do
		[ "$(grep -c -- "unionrun.* $opt" <<<"$output")" -ge 1 ]
		grep -q -- "^  $opt" <<<"$output"
	done
	grep -q -- "^  -q, --quiet" <<<"$output"
}

@test "make install: binaries, libraries and man pages under DESTDIR; the installed unionrun runs; make uninstall removes them" {
	src=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	dest=$BATS_TEST_TMPDIR/dest
	make -C "$src" -s install B="$UNIONSHIM_BUILD" DESTDIR="$dest" PREFIX=/opt/us >/dev/null
	[ -x "$dest/opt/us/bin/unionrun" ]
	[ -f "$dest/opt/us/lib/unionshim/libunionshim.so" ]
	[ -f "$dest/opt/us/lib/unionshim/libunionshim-audit.so" ]
	[ -f "$dest/opt/us/lib/unionshim/libunionshim-trace.so" ]
	[ -f "$dest/opt/us/share/man/man1/unionrun.1" ]
	[ -f "$dest/opt/us/share/man/man1/unionctl.1" ]
	[ -f "$dest/opt/us/share/man/man7/unionshim.7" ]
	# the pages render without a warning
	run groff -man -ww -z "$dest/opt/us/share/man/man1/unionrun.1" "$dest/opt/us/share/man/man7/unionshim.7"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run "$dest/opt/us/bin/unionrun" --lower "$LOWER" --at "$TARGET" -- cat "$TARGET/sub/file"
	[ "$status" -eq 0 ]
	[ "$output" = lower ]
	# the default run: in place, its summary from the installed unionctl
	[ -x "$dest/opt/us/bin/unionctl" ]
	cd "$LOWER"
	TMPDIR=$BATS_TEST_TMPDIR run "$dest/opt/us/bin/unionrun" --discard -- sh -c 'echo new > n'
	[ "$status" -eq 0 ]
	[ "$output" = "unionrun: 1 added, 0 changed, 0 deleted; discarded" ]
	[ ! -e "$LOWER/n" ]
	cd - >/dev/null
	make -C "$src" -s uninstall B="$UNIONSHIM_BUILD" DESTDIR="$dest" PREFIX=/opt/us >/dev/null
	[ -z "$(find "$dest" -type f)" ]
}

@test "quick start: a real build isolated in a union; the tree stays pristine" {
	src=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	tree=$BATS_TEST_TMPDIR/tree
	mkdir -p "$tree"
	(cd "$src" && git ls-files -z 2>/dev/null | xargs -0 -r cp --parents -t "$tree") ||
		cp -r "$src/Makefile" "$src/include" "$src/shim" "$src/tools" "$tree"
	before=$(snapshot "$tree")
	up=$BATS_TEST_TMPDIR/us-up
	work=$BATS_TEST_TMPDIR/us-work
	run "$UNIONRUN" --lower "$tree" --upper "$up" --work "$work" -C "$tree" -- \
		make -s B=build-isolated build-isolated/unionrun
	[ "$status" -eq 0 ]
	[ -x "$up/build-isolated/unionrun" ]
	[ "$(snapshot "$tree")" = "$before" ]
	# the build's output is seen in place through the union
	run "$UNIONRUN" --lower "$tree" --upper "$up" --work "$work" -- "$tree/build-isolated/unionrun" --help
	[ "$status" -eq 0 ]
	# without an upper, a write into the tree is refused
	run "$UNIONRUN" --lower "$tree" -C "$tree" -- make -s B=build-ro build-ro/unionrun
	[ "$status" -ne 0 ]
	[[ "$output" == *"Read-only file system"* ]]
	[ "$(snapshot "$tree")" = "$before" ]
}

# --trace: the lines of one run, for the checks below.
trace_run() {
	TRACE=$BATS_TEST_TMPDIR/trace.txt
	run "$UNIONRUN" --lower "$LOWER" --upper "$UPPER" --work "$WORK" --at "$TARGET" \
		--trace "$TRACE" -- "$@"
}

@test "--trace: every copy-up, whiteout, opaque dir and refused write, one line each with pid, program, operation and path" {
	echo data > "$LOWER/f"
	echo gone > "$LOWER/g"
	mkdir -p "$LOWER/d" "$LOWER/sub2"
	echo x > "$LOWER/d/x"
	trace_run sh -c "echo more >> '$TARGET/f'; rm '$TARGET/g'; rm -r '$TARGET/d'; mkdir '$TARGET/d';
		echo no > '$LOWER/own' 2>/dev/null; mv '$TARGET/sub/file' '$TARGET/moved'; true"
	[ "$status" -eq 0 ]
	cat "$TRACE"
	grep -Eq "^unionshim: \[[0-9]+ sh\] copy-up $TARGET/f \(5 bytes\)$" "$TRACE"
	grep -Eq "^unionshim: \[[0-9]+ mv\] copy-up $TARGET/sub$" "$TRACE"
	grep -Eq "^unionshim: \[[0-9]+ rm\] copy-up $TARGET/d$" "$TRACE"
	grep -Eq "^unionshim: \[[0-9]+ rm\] whiteout $TARGET/g$" "$TRACE"
	grep -Eq "^unionshim: \[[0-9]+ rm\] whiteout $TARGET/d/x$" "$TRACE"
	grep -Eq "^unionshim: \[[0-9]+ rm\] whiteout $TARGET/d$" "$TRACE"
	grep -Eq "^unionshim: \[[0-9]+ mkdir\] opaque $TARGET/d$" "$TRACE"
	grep -Eq "^unionshim: \[[0-9]+ mv\] copy-up $TARGET/sub/file \(6 bytes\)$" "$TRACE"
	grep -Eq "^unionshim: \[[0-9]+ mv\] whiteout $TARGET/sub/file$" "$TRACE"
	grep -Eq "^unionshim: \[[0-9]+ sh\] refused .* of $LOWER(/own)?: Read-only file system$" "$TRACE"
	# one line per event: nothing else but backtrace frames
	[ "$(grep -vc '^unionshim:   #' "$TRACE")" -eq 10 ]
	[ ! -e "$LOWER/own" ]
	# the command's stderr carries none of it
	[[ "$output" != *unionshim:* ]]
}

# A program built with -g that copies up from a named function; a stripped
# copy runs, the unstripped one answers addr2line.
build_tracee() {
	cat > "$BATS_TEST_TMPDIR/tracee.c" <<-'C'
	#include <fcntl.h>
	#include <unistd.h>
	__attribute__((noinline)) int make_change(const char *p)
	{
		int fd = open(p, O_WRONLY | O_APPEND);
		if (fd >= 0)
			close(fd);
		return fd;
	}
	int main(int argc, char **argv)
	{
		return argc > 1 && make_change(argv[1]) < 0;
	}
	C
	cc -g -O1 "$@" -o "$BATS_TEST_TMPDIR/tracee" "$BATS_TEST_TMPDIR/tracee.c"
	cp "$BATS_TEST_TMPDIR/tracee" "$BATS_TEST_TMPDIR/tracee.stripped"
	strip "$BATS_TEST_TMPDIR/tracee.stripped"
}

# The function addr2line gives for the first frame in the stripped tracee.
tracee_function() {
	local frame off
	frame=$(grep -m1 -E "^unionshim:   #[0-9]+ $BATS_TEST_TMPDIR/tracee\.stripped\+0x[0-9a-f]+$" "$TRACE")
	off=${frame##*+}
	addr2line -f -e "$BATS_TEST_TMPDIR/tracee" "$off" | head -1
}

@test "--trace: backtrace frames name module and offset; addr2line places a frame of a stripped program (PIE and fixed address)" {
	echo data > "$LOWER/f"
	for kind in -pie -no-pie; do
		build_tracee "$kind"
		rm -rf "$UPPER" "$WORK"
		trace_run "$BATS_TEST_TMPDIR/tracee.stripped" "$TARGET/f"
		[ "$status" -eq 0 ]
		cat "$TRACE"
		grep -q "copy-up $TARGET/f (5 bytes)" "$TRACE"
		# the wrapper the program called, then the program's frames
		grep -Eq "^unionshim:   #0 .*/libunionshim\.so\+0x[0-9a-f]+ \(open(64)?\+0x[0-9a-f]+\)$" "$TRACE"
		[ "$(tracee_function)" = make_change ]
		# no frame without a module
		! grep -q '^unionshim:   #[0-9]* ?' "$TRACE"
	done
}

teardown() {
	if [ -n "${OVL_MOUNTED:-}" ] && mountpoint -q "$OVL_MOUNTED"; then
		umount "$OVL_MOUNTED" || umount -l "$OVL_MOUNTED"
	fi
}

# The default run and the options acting at exit. Temp dirs go under
# $TMPDIR, here a dir of the test's own.
default_setup() {
	export TMPDIR=$BATS_TEST_TMPDIR/tmp
	mkdir -p "$TMPDIR"
	echo old > "$LOWER/f"
	echo gone > "$LOWER/g"
	cd "$LOWER"
	BEFORE=$(snapshot "$LOWER")
}

# The job of most tests below: one name added, one changed, one deleted.
JOB='echo new > n; echo more >> f; rm g'

temps() { find "$TMPDIR" -mindepth 1 -maxdepth 1 | sort; }

@test "no layer options: in place over the cwd, upper and work in a private temp dir; one summary line; the tree stays pristine" {
	default_setup
	run --separate-stderr "$UNIONRUN" -- sh -c "$JOB; cat f n; ls"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'old\nmore\nnew\nf\nn\nsub')" ]
	[ "$(snapshot "$LOWER")" = "$BEFORE" ]
	tmp=$(temps)
	[[ "$tmp" == "$TMPDIR/unionrun."?????? ]]
	[ "$stderr" = "unionrun: 1 added, 1 changed, 1 deleted; changes kept in $tmp" ]
	[ "$(cat "$tmp/upper/n")" = new ]
	[ -e "$tmp/upper/.wh.g" ]
	[ -d "$tmp/work" ]
	[ "$(stat -c %d "$tmp/upper")" = "$(stat -c %d "$tmp/work")" ]
	# the kept layers are a union again: unionrun over them sees the job's result
	run "$UNIONRUN" --lower "$LOWER" --upper "$tmp/upper" --work "$tmp/work" -- cat f
	[ "$output" = "$(printf 'old\nmore')" ]
}

@test "nothing changed: the temp dir is removed, the line says so; --quiet says nothing" {
	default_setup
	run --separate-stderr "$UNIONRUN" -- cat f
	[ "$status" -eq 0 ]
	[ "$output" = old ]
	[ "$stderr" = "unionrun: 0 added, 0 changed, 0 deleted; nothing kept" ]
	[ -z "$(temps)" ]
	run "$UNIONRUN" --quiet -- sh -c "$JOB"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ -f "$(temps)/upper/n" ]
	[ "$(snapshot "$LOWER")" = "$BEFORE" ]
}

@test "waiting for the command: its exit status, its signal, and the summary still printed" {
	default_setup
	run --separate-stderr "$UNIONRUN" -- sh -c "$JOB; exit 7"
	[ "$status" -eq 7 ]
	[[ "$stderr" == "unionrun: 1 added, 1 changed, 1 deleted; changes kept in $TMPDIR/unionrun."* ]]
	# killed by SIGTERM: unionrun dies of SIGTERM too (not exit 143)
	run python3 -c 'import subprocess, sys; r = subprocess.run(sys.argv[1:], stderr=subprocess.PIPE); print(r.returncode); sys.stdout.write(r.stderr.decode())' \
		"$UNIONRUN" --discard -- sh -c "$JOB; kill -TERM \$\$"
	[ "${lines[0]}" = -15 ]
	[ "${lines[1]}" = "unionrun: 1 added, 1 changed, 1 deleted; discarded" ]
	[ "$(snapshot "$LOWER")" = "$BEFORE" ]
}

@test "a signal sent to unionrun reaches the command; the changes are still reported" {
	default_setup
	"$UNIONRUN" -- sh -c "trap 'echo got TERM > t; kill \$!; exit 3' TERM; echo > ready; sleep 30 & wait" \
		2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	for i in $(seq 100); do [ -n "$(temps)" ] && [ -e "$(temps)/upper/ready" ] && break; sleep 0.1; done
	kill -TERM "$pid"
	st=0
	wait "$pid" || st=$?
	[ "$st" -eq 3 ]
	[ "$(cat "$(temps)/upper/t")" = "got TERM" ]
	[[ "$(cat "$BATS_TEST_TMPDIR/err")" == "unionrun: 2 added, 0 changed, 0 deleted; changes kept in "* ]]
}

@test "--diff lists the changes on stderr, --diff=FILE into FILE, --diff=- on stdout; the command's stdout stays its own" {
	default_setup
	run --separate-stderr "$UNIONRUN" --discard --diff -- sh -c "$JOB; echo out"
	[ "$status" -eq 0 ]
	[ "$output" = out ]
	[ "$stderr" = "$(printf 'M f\nD g\nA n\nunionrun: 1 added, 1 changed, 1 deleted; discarded')" ]
	run --separate-stderr "$UNIONRUN" --discard --diff="$BATS_TEST_TMPDIR/list" -- sh -c "$JOB"
	[ "$(cat "$BATS_TEST_TMPDIR/list")" = "$(printf 'M f\nD g\nA n')" ]
	run --separate-stderr "$UNIONRUN" --discard --diff=- -- sh -c "$JOB"
	[ "$output" = "$(printf 'M f\nD g\nA n')" ]
	[ -z "$(temps)" ]
	[ "$(snapshot "$LOWER")" = "$BEFORE" ]
}

@test "--discard: a temp dir goes whole; an upper and work dir the user named are emptied" {
	default_setup
	run "$UNIONRUN" --discard -- sh -c "$JOB"
	[ "$status" -eq 0 ]
	[ "$output" = "unionrun: 1 added, 1 changed, 1 deleted; discarded" ]
	[ -z "$(temps)" ]
	run "$UNIONRUN" --lower "$LOWER" --upper "$UPPER" --work "$WORK" --discard -- sh -c "$JOB"
	[ "$status" -eq 0 ]
	[ "$output" = "unionrun: 1 added, 1 changed, 1 deleted; discarded" ]
	[ -d "$UPPER" ] && [ -z "$(ls -A "$UPPER")" ]
	[ -d "$WORK" ] && [ -z "$(ls -A "$WORK")" ]
	[ "$(snapshot "$LOWER")" = "$BEFORE" ]
}

@test "--keep DIR: upper and work under DIR; a second run goes on where the first stopped" {
	default_setup
	keep=$BATS_TEST_TMPDIR/keep
	run "$UNIONRUN" --keep "$keep" -- sh -c "$JOB"
	[ "$status" -eq 0 ]
	[ "$output" = "unionrun: 1 added, 1 changed, 1 deleted; changes kept in $keep" ]
	[ "$(cat "$keep/upper/n")" = new ]
	[ -d "$keep/work" ]
	run "$UNIONRUN" --keep "$keep" -- sh -c 'cat n; echo m > m'
	[ "${lines[0]}" = new ]
	[ "${lines[1]}" = "unionrun: 2 added, 1 changed, 1 deleted; changes kept in $keep" ]
	# --keep also makes --lower writable; with DIR/N for several unions
	run "$UNIONRUN" --keep "$BATS_TEST_TMPDIR/k2" --lower "$LOWER2" --mount "lowerdir=$LOWER" -- \
		sh -c "echo a > '$LOWER2/a'; echo b > '$LOWER/b'"
	[ "$status" -eq 0 ]
	[ -f "$BATS_TEST_TMPDIR/k2/1/upper/a" ]
	[ -f "$BATS_TEST_TMPDIR/k2/2/upper/b" ]
	[ -z "$(temps)" ]
	[ "$(snapshot "$LOWER")" = "$BEFORE" ]
	[ -z "$(ls "$LOWER2" | grep -v bottom)" ]
}

@test "--mount repeated: several unions, each with its own layers; diff and summary per union" {
	default_setup
	cache=$ROOT/cache
	mkdir -p "$cache"
	echo c > "$cache/c"
	run --separate-stderr "$UNIONRUN" --diff --mount "lowerdir=$LOWER" --mount "lowerdir=$cache" \
		--mount "lowerdir=$LOWER2,upperdir=$UPPER,workdir=$WORK,target=$TARGET" -- \
		sh -c "$JOB; rm '$cache/c'; echo t > '$TARGET/t'; cat '$TARGET/bottom'"
	[ "$status" -eq 0 ]
	[ "$output" = bottom ]
	first=$(temps | head -1)
	[ "${#stderr_lines[@]}" -eq 8 ]
	[ "${stderr_lines[0]}" = "M $LOWER/f" ]
	[ "${stderr_lines[1]}" = "D $LOWER/g" ]
	[ "${stderr_lines[2]}" = "A $LOWER/n" ]
	[[ "${stderr_lines[3]}" == "unionrun: $LOWER: 1 added, 1 changed, 1 deleted; changes kept in $TMPDIR/unionrun."* ]]
	[ "${stderr_lines[4]}" = "D $cache/c" ]
	[[ "${stderr_lines[5]}" == "unionrun: $cache: 0 added, 0 changed, 1 deleted; changes kept in $TMPDIR/unionrun."* ]]
	[ "${stderr_lines[6]}" = "A $TARGET/t" ]
	[ "${stderr_lines[7]}" = "unionrun: $TARGET: 1 added, 0 changed, 0 deleted; changes kept in $UPPER" ]
	[ "$(temps | wc -l)" -eq 2 ]
	[ -f "$cache/c" ]
	[ "$(snapshot "$LOWER")" = "$BEFORE" ]
}

@test "--commit: a failed command's changes are kept, not committed, and it says so" {
	default_setup
	run --separate-stderr "$UNIONRUN" --commit -- sh -c "$JOB; exit 4"
	[ "$status" -eq 4 ]
	[[ "$stderr" == "unionrun: 1 added, 1 changed, 1 deleted; not committed (the command failed); changes kept in $TMPDIR/unionrun."* ]]
	[ "$(snapshot "$LOWER")" = "$BEFORE" ]
	run --separate-stderr "$UNIONRUN" --commit --discard -- sh -c "$JOB; exit 4"
	[ "$status" -eq 4 ]
	[ "$stderr" = "unionrun: 1 added, 1 changed, 1 deleted; not committed (the command failed); discarded" ]
	[ "$(temps | wc -l)" -eq 1 ]
	[ "$(snapshot "$LOWER")" = "$BEFORE" ]
}

@test "bad use: one line, exit 125, nothing made and the command not run" {
	default_setup
	before_root=$(snapshot "$ROOT")
	for args in "--keep $ROOT/k --discard" "--keep $ROOT/k --lower $LOWER --upper $UPPER --work $WORK" \
		"--mount lowerdir=$LOWER;lowerdir=$LOWER2" "--mount lowerdir=$LOWER,bogus=1" \
		"--mount target=$TARGET" "--diff=$ROOT/no/such/dir/list --lower $LOWER --upper $UPPER --work $WORK" \
		"--trace $ROOT/no/such/trace"; do
		run "$UNIONRUN" $args -- sh -c "echo ran > '$ROOT/ran'"
		echo "$args: $output"
		[ "$status" -eq 125 ]
		[ "${#lines[@]}" -eq 1 ]
		[[ "$output" == unionrun:* ]]
	done
	[ "$(snapshot "$ROOT")" = "$before_root" ]
	# a temp dir would land in the lower: refused before anything is made
	mkdir "$LOWER/tmp"
	before_root=$(snapshot "$ROOT")
	TMPDIR=$LOWER/tmp run "$UNIONRUN" -- sh -c "echo ran > '$ROOT/ran'"
	[ "$status" -eq 125 ]
	[ "$output" = "unionrun: temp dir $LOWER/tmp is inside lowerdir $LOWER (set TMPDIR or --keep to a dir outside the union)" ]
	run "$UNIONRUN" --keep "$LOWER/tmp/k" -- true
	[ "$status" -eq 125 ]
	[ "$(snapshot "$ROOT")" = "$before_root" ]
	[ -z "$(temps)" ]
}

@test "unionctl missing: the command's changes are kept and said so; a successful command's run ends 125" {
	default_setup
	UNIONRUN_UNIONCTL=$ROOT/no-unionctl run "$UNIONRUN" -- sh -c "$JOB"
	[ "$status" -eq 125 ]
	[[ "$output" == *"unionrun: cannot read the changes of $LOWER; they are kept in $TMPDIR/unionrun."* ]]
	[ -f "$(temps)/upper/n" ]
	UNIONRUN_UNIONCTL=$ROOT/no-unionctl run "$UNIONRUN" -- sh -c "exit 5"
	[ "$status" -eq 5 ]
}

# A tree's entries with what a change alters (type, mode, size, mtime,
# symlink target), one per line: "PATH<TAB>...", sorted.
listing() {
	(cd "$1" && find . -mindepth 1 -printf '%P\t%y %m %s %T@ %l\n' | LC_ALL=C sort)
}

# What changed between two listings, in `unionctl diff`'s form, sorted by
# path (a dir counts when it is new or gone: its times follow its entries).
changes_between() {
	LC_ALL=C join -t$'\t' -a1 -a2 -e MISSING -o 0,1.2,2.2 "$1" "$2" |
		awk -F'\t' '$2 == "MISSING" { print "A " $1; next }
			$3 == "MISSING" { print "D " $1; next }
			$2 != $3 && $2 !~ /^d/ { print "M " $1 }' | LC_ALL=C sort -k2
}

@test "CI-style: unionrun --diff -- make in a real C project lists the build outputs and nothing else (as a plain make, and make on kernel overlayfs, change); the source tree stays pristine; --commit makes it what the union showed" {
	command -v autoreconf >/dev/null && command -v libtoolize >/dev/null ||
		skip "autoconf, automake and libtool are needed (.ci/run installs them)"
	export TMPDIR=$BATS_TEST_TMPDIR/tmp
	mkdir -p "$TMPDIR"
	proj=$BATS_TEST_TMPDIR/proj
	cp -r "$BATS_TEST_DIRNAME/../projects/autotools" "$proj"
	mkdir -p "$proj/m4"
	# a configured tree, as a release tarball unpacks
	(cd "$proj" && autoreconf -fi >/dev/null 2>&1 && ./configure -q --disable-static >/dev/null)
	# what a plain make changes, in an identical copy
	cp -a "$proj" "$BATS_TEST_TMPDIR/ref"
	listing "$BATS_TEST_TMPDIR/ref" > "$BATS_TEST_TMPDIR/before"
	(cd "$BATS_TEST_TMPDIR/ref" && make -s >/dev/null 2>&1)
	listing "$BATS_TEST_TMPDIR/ref" > "$BATS_TEST_TMPDIR/after"
	want=$(changes_between "$BATS_TEST_TMPDIR/before" "$BATS_TEST_TMPDIR/after")
	[[ "$want" == *"A .libs/libgreet.so.2.0.0"* ]]
	if can_mount_overlay; then
		# kernel overlayfs agrees: make on an overlay mounted over a copy in
		# place, then unionctl diff of its layers
		ovl=$BATS_TEST_TMPDIR/ovl
		mkdir -p "$ovl/up" "$ovl/work"
		cp -a "$proj" "$ovl/tree"
		mount -t overlay overlay -o "lowerdir=$ovl/tree,upperdir=$ovl/up,workdir=$ovl/work" "$ovl/tree"
		OVL_MOUNTED=$ovl/tree
		(cd "$ovl/tree" && make -s >/dev/null 2>&1)
		umount "$ovl/tree"
		OVL_MOUNTED=
		diff <(echo "$want") <("$UNIONSHIM_BUILD/unionctl" diff --lower "$ovl/tree" --upper "$ovl/up" --work "$ovl/work" | LC_ALL=C sort -k2)
	fi
	before=$(snapshot "$proj")
	cd "$proj"
	run "$UNIONRUN" --diff="$BATS_TEST_TMPDIR/diff" -- make -s
	[ "$status" -eq 0 ]
	got=$(LC_ALL=C sort -k2 "$BATS_TEST_TMPDIR/diff")
	diff <(echo "$want") <(echo "$got")
	[ "$(snapshot "$proj")" = "$before" ]
	[[ "${lines[-1]}" == "unionrun: $(grep -c '^A ' <<<"$want") added, $(grep -c '^M ' <<<"$want") changed, 0 deleted; changes kept in $TMPDIR/unionrun."* ]]
	# --commit: the tree becomes what the union showed after the build
	view=$BATS_TEST_TMPDIR/view
	run "$UNIONRUN" --commit -- sh -c "make -s && { snapshot() { $(declare -f snapshot | tail -n +2); }; snapshot . > '$view'; }"
	[ "$status" -eq 0 ]
	[[ "${lines[-1]}" == *"; committed to $proj" ]]
	[ "$(snapshot "$proj")" = "$(cat "$view")" ]
	[ "$(listing "$proj" | cut -f1)" = "$(cut -f1 "$BATS_TEST_TMPDIR/after")" ]
}

@test "--commit: when the command succeeds the lower becomes what the union showed; the temp dir goes" {
	default_setup
	mkdir -p "$LOWER/d" && echo x > "$LOWER/d/x" && ln "$LOWER/f" "$LOWER/f2"
	view=$BATS_TEST_TMPDIR/view
	run --separate-stderr "$UNIONRUN" --commit -- sh -c "$JOB; rm -r d; mkdir d; echo y > d/y;
		ln -s n link; echo more >> f2; setfattr -n user.k -v v n; snapshot() { $(declare -f snapshot | tail -n +2); }; snapshot . > '$view'"
	[ "$status" -eq 0 ]
	[ "$stderr" = "unionrun: 3 added, 2 changed, 2 deleted; committed to $LOWER" ]
	[ "$(snapshot "$LOWER")" = "$(cat "$view")" ]
	[ "$(stat -c %i "$LOWER/f")" = "$(stat -c %i "$LOWER/f2")" ]
	[ "$(getfattr --only-values -n user.k "$LOWER/n")" = v ]
	[ ! -e "$LOWER/d/x" ]
	[ -z "$(temps)" ]
}

@test "--commit on a union of several lowers: onto the topmost, the lowers' union becomes what the union showed (shim and kernel overlayfs)" {
	default_setup
	local L3=$ROOT/lower3 manifest=$BATS_TEST_DIRNAME/../lib/manifest.py view=$BATS_TEST_TMPDIR/view
	mkdir -p "$L3/tree/sub" "$LOWER2/tree" "$LOWER2/hl" "$L3/re"
	echo t > "$L3/tree/sub/t"; echo b > "$L3/bottom"; echo m > "$LOWER2/mid"
	echo m > "$LOWER2/tree/m"; echo h > "$LOWER2/hl/a"; ln "$LOWER2/hl/a" "$LOWER2/hl/b"
	echo r > "$L3/re/r"; mknod "$LOWER/re" c 0 0
	local below
	below=$(snapshot "$LOWER2"; snapshot "$L3")
	run --separate-stderr "$UNIONRUN" --commit --lower "$LOWER" --lower "$LOWER2" --lower "$L3" --keep "$ROOT/k" -- sh -c "$JOB
		rm bottom mid; rm -r tree; mkdir tree; echo fresh > tree/fresh
		mkdir re; echo new > re/new; echo more >> hl/a; python3 '$manifest' . > '$view'"
	[ "$status" -eq 0 ]
	[ "$stderr" = "unionrun: 4 added, 3 changed, 6 deleted; committed to $LOWER" ]
	[ "$(snapshot "$LOWER2"; snapshot "$L3")" = "$below" ]
	[ -z "$(temps)" ]
	[ "$(in_union_ro_at "$LOWER:$LOWER2:$L3" python3 "$manifest" "$TARGET")" = "$(cat "$view")" ]
	if can_mount_overlay; then
		mount -t overlay overlay -o "lowerdir=$LOWER:$LOWER2:$L3" "$TARGET"
		local got
		got=$(python3 "$manifest" "$TARGET")
		umount "$TARGET"
		[ "$got" = "$(cat "$view")" ]
	fi
}

in_union_ro_at() {
	LD_PRELOAD=$SHIM_LIB UNIONSHIM_MOUNTS="target=$TARGET,lowerdir=$1" "${@:2}"
}

@test "--trace: four processes tracing at once never interleave an event and its frames; a child started with env -i keeps the trace; a link of a lower's own file is traced" {
	for i in $(seq 1 40); do echo "$i" > "$LOWER/f$i"; done
	echo own > "$LOWER/own"
	trace_run sh -c "for p in 1 2 3 4; do
		(for i in \$(seq \$p 4 40); do echo x >> '$TARGET/f'\$i; done) &
	done; wait; env -i /bin/rm '$TARGET/f1'; ln '$LOWER/own' '$TARGET/own2'"
	[ "$status" -eq 0 ]
	[ "$(grep -c ' copy-up .*/f[0-9]* (' "$TRACE")" -eq 40 ]
	grep -Eq "^unionshim: \[[0-9]+ rm\] whiteout $TARGET/f1$" "$TRACE"
	grep -Eq "^unionshim: \[[0-9]+ ln\] copy-up $TARGET/own2 \(4 bytes\)$" "$TRACE"
	# every block: one event line, then frames #0, #1, ... in order
	awk '/^unionshim: \[/ { want = 0; next }
		/^unionshim:   #/ { n = substr($2, 2) + 0; if (n != want) { print "bad " NR ": " $0; bad = 1 } want++; next }
		{ print "stray " NR ": " $0; bad = 1 }
		END { exit bad }' "$TRACE"
}
