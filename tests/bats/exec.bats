#!/usr/bin/env bats
# Promise (semantics.md "Processes"): programs, "#!" scripts and their
# interpreters that exist only in a lower layer run through their union
# paths; every exec, spawn, system and popen child stays in the union even
# when the program dropped the shim's variables; a program the shim cannot
# follow (static, Go, setuid to another user) is refused with one line,
# unless the new program's environment allows it. The target is an empty dir, so anything that slips past the shim
# finds nothing there.

bats_require_minimum_version 1.5.0

load ../lib/common

setup_file() {
	local d=$BATS_FILE_TMPDIR
	# prog: prints its argv[0] and the contents of the file named by argv[1]
	cat >"$d/prog.c" <<'EOF'
#include <stdio.h>
int main(int argc, char **argv)
{
	char buf[256];
	printf("prog %s\n", argv[0]);
	if (argc > 1) {
		FILE *f = fopen(argv[1], "r");
		if (!f) { perror(argv[1]); return 1; }
		while (fgets(buf, sizeof buf, f)) fputs(buf, stdout);
	}
	return 0;
}
EOF
	cc -o "$d/prog" "$d/prog.c"
	printf 'int main(void) { return 3; }\n' >"$d/static.c"
	cc -static -o "$d/static" "$d/static.c"
	# Go's marks, made with the C compiler: a "Go" note of type 4 (Go's
	# build id) and a .go.buildinfo section; and near misses of both
	cat >"$d/gonote.c" <<'EOF'
struct gonote { unsigned namesz, descsz, type; char name[4]; char desc[8]; };
__attribute__((section(NOTESEC), used, aligned(4)))
static const struct gonote note = {4, 8, NOTETYPE, "Go", "abcdefgh"};
int main(void) { return 5; }
EOF
	cat >"$d/gobi.c" <<'EOF'
__attribute__((section(SECNAME), used)) char bi[32] = "\xff Go buildinf:";
int main(void) { return 5; }
EOF
	cc -DNOTESEC='".note.go.buildid"' -DNOTETYPE=4 -o "$d/go-note" "$d/gonote.c"
	cc -DNOTESEC='".note.other"' -DNOTETYPE=4 -o "$d/go-note-only" "$d/gonote.c"
	cc -DNOTESEC='".note.other"' -DNOTETYPE=1 -o "$d/not-go-note" "$d/gonote.c"
	cc -static -DNOTESEC='".note.go.buildid"' -DNOTETYPE=4 -o "$d/go-static" "$d/gonote.c"
	cc -DSECNAME='".go.buildinfo"' -o "$d/go-buildinfo" "$d/gobi.c"
	cc -DSECNAME='".go.buildinfox"' -o "$d/not-go-section" "$d/gobi.c"
	printf 'const char *probe(void) { return "lib from the union"; }\n' >"$d/lib.c"
	cc -shared -fPIC -o "$d/libprobe.so" "$d/lib.c"
}

# The test's own shell is not under the shim: start programs from one that is.
in_union_exec() {
	in_union sh -c 'exec "$@"' sh "$@"
}

setup() {
	make_layers
	local d=$BATS_FILE_TMPDIR
	mkdir -p "$LOWER/bin" "$LOWER/sub" "$LOWER/lib"
	cp "$d/prog" "$LOWER/bin/prog"
	cp "$d/static" "$LOWER/bin/static"
	cp "$d/libprobe.so" "$LOWER/lib/libprobe.so"
	echo "union-only data" >"$LOWER/data"
	echo "sibling data" >"$LOWER/bin/sibling"
	printf '#!/bin/sh\necho "script $0"\ncat "$(dirname "$0")/sibling"\n' >"$LOWER/bin/script"
	chmod +x "$LOWER/bin/script"
}

@test "a compiled program stored only in a lower runs via its union path" {
	[ ! -e "$TARGET/bin/prog" ]
	run --separate-stderr in_union_exec "$TARGET/bin/prog" "$TARGET/data"
	[ "$status" -eq 0 ]
	[ "$output" = "prog $TARGET/bin/prog
union-only data" ]
}

@test "a shebang script in a lower runs, \$0 is its union path, it reads a sibling" {
	run --separate-stderr in_union_exec "$TARGET/bin/script"
	[ "$status" -eq 0 ]
	[ "$output" = "script $TARGET/bin/script
sibling data" ]
}

@test "a shell runs several union programs in a row (vfork children)" {
	run --separate-stderr in_union sh -c "'$TARGET/bin/prog'; '$TARGET/bin/script'; '$TARGET/bin/prog' '$TARGET/data'"
	[ "$status" -eq 0 ]
	[ "$output" = "prog $TARGET/bin/prog
script $TARGET/bin/script
sibling data
prog $TARGET/bin/prog
union-only data" ]
}

@test "a script whose interpreter (a copied /bin/sh) lives in the union" {
	cp /bin/sh "$LOWER/bin/mysh"
	printf '#!%s\necho "via mysh $0 $*"\n' "$TARGET/bin/mysh" >"$LOWER/bin/s2"
	chmod +x "$LOWER/bin/s2"
	run --separate-stderr in_union_exec "$TARGET/bin/s2" a b
	[ "$status" -eq 0 ]
	[ "$output" = "via mysh $TARGET/bin/s2 a b" ]
}

@test "a script whose interpreter is another union script gets the kernel's argv" {
	printf '#!/bin/sh\necho "0=$0 args=$*"\n' >"$LOWER/bin/inner"
	printf '#!%s  opt1  \n' "$TARGET/bin/inner" >"$LOWER/bin/outer"
	chmod +x "$LOWER/bin/inner" "$LOWER/bin/outer"
	run --separate-stderr in_union_exec "$TARGET/bin/outer" x y
	[ "$status" -eq 0 ]
	[ "$output" = "0=$TARGET/bin/inner args=opt1 $TARGET/bin/outer x y" ]
}

@test "execvp searches a PATH entry that is a union dir" {
	run --separate-stderr in_union env PATH="$TARGET/bin:$PATH" prog "$TARGET/data"
	[ "$status" -eq 0 ]
	[ "$output" = "prog prog
union-only data" ]
	for mode in execvp execvpe execlp; do
		PATH="$TARGET/bin:$PATH" run --separate-stderr in_union "$(probe exec_run)" $mode script
		[ "$status" -eq 0 ]
		[ "$output" = "script $TARGET/bin/script
sibling data" ]
	done
}

@test "execvp: EACCES is remembered past a non-executable hit, ENOEXEC runs /bin/sh" {
	mkdir -p "$LOWER/a" "$LOWER/b"
	echo 'echo no' >"$LOWER/a/cmd" # not executable
	PATH="$TARGET/a:$TARGET/b" run -127 in_union "$(probe exec_run)" execvp cmd
	[ "$output" = "errno=Permission denied" ]
	printf 'echo "plain text run by sh: $0"\n' >"$LOWER/b/cmd"
	chmod +x "$LOWER/b/cmd"
	PATH="$TARGET/a:$TARGET/b" run in_union "$(probe exec_run)" execvp cmd
	[ "$output" = "plain text run by sh: $TARGET/b/cmd" ]
	run -127 in_union "$(probe exec_run)" execve "$TARGET/b/cmd"
	[ "$output" = "errno=Exec format error" ]
}

@test "exec errno matches the kernel's: ENOENT, EACCES, ENOTDIR" {
	run -127 in_union "$(probe exec_run)" execve "$TARGET/bin/missing"
	[ "$output" = "errno=No such file or directory" ]
	run -127 in_union "$(probe exec_run)" execve "$TARGET/bin/sibling"
	[ "$output" = "errno=Permission denied" ]
	run -127 in_union "$(probe exec_run)" execve "$TARGET/sub"
	[ "$output" = "errno=Permission denied" ]
	run -127 in_union "$(probe exec_run)" execve "$TARGET/data/x"
	[ "$output" = "errno=Not a directory" ]
	printf '#!%s\n' "$TARGET/bin/nointerp" >"$LOWER/bin/badi"
	chmod +x "$LOWER/bin/badi"
	run -127 in_union "$(probe exec_run)" execve "$TARGET/bin/badi"
	[ "$output" = "errno=No such file or directory" ]
}

@test "env -i: the child still sees the union" {
	run --separate-stderr in_union env -i "$TARGET/bin/prog" "$TARGET/data"
	[ "$status" -eq 0 ]
	[ "$output" = "prog $TARGET/bin/prog
union-only data" ]
}

@test "after unsetenv or clearenv, exec children still see the union" {
	for flag in -u -c; do
		for mode in execve execv execl execle execveat fexecve; do
			run --separate-stderr in_union "$(probe exec_run)" $flag $mode "$TARGET/bin/prog" "$TARGET/data"
			[ "$status" -eq 0 ]
			[ "$output" = "prog $TARGET/bin/prog
union-only data" ]
		done
	done
}

@test "after unsetenv or clearenv, system and popen children still see the union" {
	for flag in -u -c; do
		run --separate-stderr in_union "$(probe exec_run)" $flag system "$TARGET/bin/prog $TARGET/data"
		[ "$status" -eq 0 ]
		[ "$output" = "prog $TARGET/bin/prog
union-only data
status=0" ]
		run --separate-stderr in_union "$(probe exec_run)" $flag popen "$TARGET/bin/prog $TARGET/data"
		[ "$status" -eq 0 ]
		[ "$output" = "popen: prog $TARGET/bin/prog
popen: union-only data
status=0" ]
	done
}

@test "posix_spawn and posix_spawnp start union programs with the union env" {
	run --separate-stderr in_union "$(probe spawn_run)" -u spawn "$TARGET/bin/prog" "$TARGET/data"
	[ "$status" -eq 0 ]
	[ "$output" = "prog $TARGET/bin/prog
union-only data
exit=0" ]
	PATH="$TARGET/bin:$PATH" run --separate-stderr in_union "$(probe spawn_run)" -u spawnp script
	[ "$status" -eq 0 ]
	[ "$output" = "script $TARGET/bin/script
sibling data
exit=0" ]
	run --separate-stderr in_union "$(probe spawn_run)" spawn "$TARGET/bin/missing"
	[ "$output" = "error=No such file or directory" ]
}

@test "posix_spawn file actions: addopen reads a union file, addchdir_np enters a union dir" {
	run --separate-stderr in_union "$(probe spawn_run)" -i "$TARGET/data" spawn /bin/cat
	[ "$status" -eq 0 ]
	[ "$output" = "union-only data
exit=0" ]
	run --separate-stderr in_union "$(probe spawn_run)" -d "$TARGET/sub" spawn /bin/pwd
	[ "$status" -eq 0 ]
	[ "$output" = "$TARGET/sub
exit=0" ]
	run --separate-stderr in_union "$(probe spawn_run)" -d "$TARGET/bin" -i sibling spawn /bin/cat
	[ "$output" = "sibling data
exit=0" ]
	run --separate-stderr in_union "$(probe spawn_run)" -d "$TARGET/bin" spawn ./script
	[ "$output" = "script ./script
sibling data
exit=0" ]
}

@test "a static program is refused with one line and EACCES, and runs when allowed" {
	run --separate-stderr in_union bash -c "'$TARGET/bin/static'"
	[ "$status" -eq 126 ]
	[ "$(grep -c '^unionshim:' <<<"$stderr")" -eq 1 ]
	grep -qxF "unionshim: refusing to execute $TARGET/bin/static: statically linked (it would see the real directories; set UNIONSHIM_ALLOW_UNFOLLOWED=1 to allow)" <<<"$stderr"
	UNIONSHIM_ALLOW_UNFOLLOWED=1 run --separate-stderr in_union bash -c "'$TARGET/bin/static'"
	[ "$status" -eq 3 ]
	[ -z "$stderr" ]
	# the switch is inherited even by a child that was given no env
	UNIONSHIM_ALLOW_UNFOLLOWED=1 run --separate-stderr in_union env -i bash -c "'$TARGET/bin/static'"
	[ "$status" -eq 3 ]
	run --separate-stderr in_union "$(probe spawn_run)" spawn "$TARGET/bin/static"
	[ "$output" = "error=Permission denied" ]
	grep -q '^unionshim: refusing to execute .*statically linked' <<<"$stderr"
}

@test "the refusal stays one line when the program's name holds a newline" {
	cp "$BATS_FILE_TMPDIR/static" "$LOWER/bin/"$'st\natic'
	run --separate-stderr in_union bash -c '"$1"' sh "$TARGET/bin/"$'st\natic'
	[ "$status" -eq 126 ]
	[ "$(grep -c '^unionshim:' <<<"$stderr")" -eq 1 ]
	grep -qxF "unionshim: refusing to execute $TARGET/bin/st\\natic: statically linked (it would see the real directories; set UNIONSHIM_ALLOW_UNFOLLOWED=1 to allow)" <<<"$stderr"
}

@test "the switch is read from the new program's environment, by every exec form and spawn" {
	# typed in a shell inside the union: the shell's own env lacks it
	run --separate-stderr in_union bash -c "UNIONSHIM_ALLOW_UNFOLLOWED=1 '$TARGET/bin/static'"
	[ "$status" -eq 3 ]
	[ -z "$stderr" ]
	for mode in execve execv execvp execvpe execl execle execlp fexecve execveat; do
		run -3 --separate-stderr in_union "$(probe exec_run)" -e UNIONSHIM_ALLOW_UNFOLLOWED=1 $mode "$TARGET/bin/static" arg
		[ -z "$stderr" ]
	done
	for mode in spawn spawnp; do
		run --separate-stderr in_union "$(probe spawn_run)" -e UNIONSHIM_ALLOW_UNFOLLOWED=1 $mode "$TARGET/bin/static" arg
		[ "$output" = "exit=3" ]
	done
	# and the other way: allowed at startup, refused where the exec says 0
	for mode in execve execvpe; do
		UNIONSHIM_ALLOW_UNFOLLOWED=1 run -127 --separate-stderr in_union "$(probe exec_run)" -e UNIONSHIM_ALLOW_UNFOLLOWED=0 $mode "$TARGET/bin/static"
		[ "$output" = "errno=Permission denied" ]
		grep -q '^unionshim: refusing to execute .*statically linked' <<<"$stderr"
	done
	UNIONSHIM_ALLOW_UNFOLLOWED=1 run --separate-stderr in_union "$(probe spawn_run)" -e UNIONSHIM_ALLOW_UNFOLLOWED=0 spawn "$TARGET/bin/static"
	[ "$output" = "error=Permission denied" ]
}

@test "a Go program (Go build-id note or .go.buildinfo section) is refused like a static one" {
	local d=$BATS_FILE_TMPDIR why
	for f in go-note go-note-only go-buildinfo go-static not-go-note not-go-section; do
		cp "$d/$f" "$LOWER/bin/$f"
	done
	for f in go-note go-note-only go-buildinfo go-static; do
		why="a Go program"
		[ $f != go-static ] || why="statically linked"
		run --separate-stderr in_union bash -c "'$TARGET/bin/$f'"
		[ "$status" -eq 126 ]
		[ "$(grep -c '^unionshim:' <<<"$stderr")" -eq 1 ]
		grep -qxF "unionshim: refusing to execute $TARGET/bin/$f: $why (it would see the real directories; set UNIONSHIM_ALLOW_UNFOLLOWED=1 to allow)" <<<"$stderr"
		run --separate-stderr in_union "$(probe spawn_run)" spawn "$TARGET/bin/$f"
		[ "$output" = "error=Permission denied" ]
		# the same switch allows it
		run -5 --separate-stderr in_union bash -c "UNIONSHIM_ALLOW_UNFOLLOWED=1 '$TARGET/bin/$f'"
		[ -z "$stderr" ]
	done
	# a note of another type, a section of another name: a C program
	for f in not-go-note not-go-section; do
		run -5 --separate-stderr in_union bash -c "'$TARGET/bin/$f'"
		[ -z "$stderr" ]
	done
}

@test "a setuid program of another user is refused" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to make a setuid file of another user"
	cp "$BATS_FILE_TMPDIR/prog" "$LOWER/bin/suid"
	chown nobody "$LOWER/bin/suid"
	chmod 4755 "$LOWER/bin/suid"
	run -127 --separate-stderr in_union "$(probe exec_run)" execve "$TARGET/bin/suid"
	[ "$output" = "errno=Permission denied" ]
	grep -qxF "unionshim: refusing to execute $TARGET/bin/suid: setuid (it would see the real directories; set UNIONSHIM_ALLOW_UNFOLLOWED=1 to allow)" <<<"$stderr"
	chown root "$LOWER/bin/suid" # setuid to ourselves: the loader keeps LD_PRELOAD
	chmod 4755 "$LOWER/bin/suid"
	run --separate-stderr in_union "$(probe exec_run)" execve "$TARGET/bin/suid"
	[ "$output" = "prog $TARGET/bin/suid" ]
}

@test "dlopen of a union path loads the library from its layer" {
	run --separate-stderr in_union "$(probe exec_dlopen)" "$TARGET/lib/libprobe.so"
	[ "$status" -eq 0 ]
	[ "$output" = "lib from the union" ]
}

@test "the cwd is inherited: cd into a union dir, then /bin/pwd" {
	run --separate-stderr in_union bash -c "cd '$TARGET/sub' && /bin/pwd && env -i /bin/pwd"
	[ "$status" -eq 0 ]
	[ "$output" = "$TARGET/sub
$TARGET/sub" ]
}

@test "the cwd is inherited where the real dir alone is ambiguous (two unions share a lower)" {
	local t2=$ROOT/target2
	mkdir -p "$t2"
	run --separate-stderr env LD_PRELOAD="$SHIM_LIB" \
		UNIONSHIM_MOUNTS="target=$TARGET,lowerdir=$LOWER;target=$t2,lowerdir=$LOWER" \
		bash -c "cd '$t2/sub' && /bin/pwd && env -i /bin/pwd && '$(probe spawn_run)' -d '$TARGET/sub' spawn /bin/pwd"
	[ "$status" -eq 0 ]
	[ "$output" = "$t2/sub
$t2/sub
$TARGET/sub
exit=0" ]
}

# A program exec'd again, unchanged, is not read again (execseen.c); one
# that changed in between is: a dynamic program replaced by a static one
# in place (same inode, new bytes) is still refused.
@test "a program exec'd again unchanged is not read again; a changed one is" {
	command -v strace >/dev/null || skip "strace is not installed"
	local d=$BATS_FILE_TMPDIR log=$BATS_TEST_TMPDIR/strace.log
	cp "$d/prog" "$UPPER/p"
	sleep 3 # a program changed less than 2 s ago is read at every exec
	run in_union strace -f -qq -e trace=openat -o "$log" \
		sh -c "$TARGET/p; $TARGET/p; $TARGET/p"
	[ "$status" -eq 0 ]
	[ "$(grep -c 'openat(AT_FDCWD, "'"$UPPER/p"'", O_RDONLY|O_NOCTTY' "$log")" -eq 1 ]
	# rewritten in place between two execs by the same shell
	run --separate-stderr in_union sh -c "$TARGET/p >/dev/null; cat '$d/static' > $TARGET/p; $TARGET/p"
	[ "$status" -eq 126 ]
	grep -q "^unionshim: refusing to execute $TARGET/p: statically linked" <<<"$stderr"
}
