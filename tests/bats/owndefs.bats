#!/usr/bin/env bats
# Promise (semantics.md "Robustness": no program crashes because the shim
# is loaded, not one that defines its own libc functions). gnulib builds
# renameat2, statx, close_range and others on top of syscall(), and GNU
# patch exports its renameat2: the shim's syscall() door and its own libc
# functions (nftw, scandir, glob, popen) must reach the shim's wrappers,
# never the program's functions of those names, or every call recurses
# through the door until the stack overflows (patch died with SIGSEGV on
# every use, even on a file outside every union). Driven by
# tests/probes/owndefs_probe.c (a program with such functions, counting
# their calls) and by real GNU patch, in a union (compared with kernel
# overlayfs) and outside.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/oracle

setup() {
	make_layers
	echo hello > "$LOWER/f"
	ln -s f "$LOWER/l"
	mkdir "$LOWER/d" "$LOWER2/d"
	echo a > "$LOWER/d/a"
	echo b > "$LOWER2/d/b"
	printf 'one\ntwo\nthree\n' > "$LOWER/src.txt"
	printf 'one\nTWO\nthree\n' > "$ROOT/new.txt"
	(cd "$LOWER" && diff -u src.txt "$ROOT/new.txt" |
		sed '1,2c\--- a/src.txt\n+++ b/src.txt' > "$ROOT/fix.diff") || true
	BEFORE=$(snapshot "$LOWER"; snapshot "$LOWER2")
	cd "$ROOT"
}

teardown() {
	unmount_union
}

# Every probe operation on the layers' files at $U, one answer each, then
# the exit status of any run that did not exit 0 (a crash shows as 139).
probe_all() {
	local p st
	p=$(probe owndefs_probe)
	for args in "statx $U/f" "stat $U/l" "lstat $U/l" "fstatat $U/l" \
		"readlink $U/l" "getdents $U/d" "scandir $U/d" "nftw $U/d" "glob $U" \
		"openat2 $U/d a" "close-range $U/f" "rename $U/f $U/g" \
		"rename-noreplace $U/d/a $U/d/b" "statx $U/g" "lstat $U/f"; do
		# shellcheck disable=SC2086
		"${RUN[@]}" "$p" $args 2>&1 || echo "status $?"
	done
	"${RUN[@]}" "$p" popen "cat $U/g" 2>&1 || echo "status $?"
}

WANT='statx f 6
stat f 6
lstat l 1
fstatat l 1
readlink f
getdents a b
scandir a b own-calls 0
nftw a:f2 b:f2 d:d0 own-calls 0
glob d/ f l src.txt own-calls 0
openat2 a\n
close-range closed
rename ok
rename-noreplace EEXIST
statx f 6
lstat ENOENT
popen hello\n status 0 own-calls 0'

@test "a program's own renameat2, statx, close_range, stat, getdents64, openat2 on syscall() work in a union, as on overlayfs" {
	local ours theirs
	use_union shim
	ours=$(probe_all)
	expect "each call through the program's own functions gives the union's answer" \
		"$WANT" "$ours"
	expect "the rename lands in the upper" hello "$(cat "$UPPER/g" 2>/dev/null)"
	expect "the lower is untouched" "$BEFORE" "$(snapshot "$LOWER"; snapshot "$LOWER2")"
	if can_mount_overlay; then
		rm -rf "$UPPER" "$WORK" && mkdir "$UPPER" "$WORK"
		use_union overlayfs
		theirs=$(probe_all)
		unmount_union
		expect "the union answers as overlayfs does" "$theirs" "$ours"
	fi
	verdict
}

@test "a program's own libc functions on syscall() work on files outside every union" {
	local plain=$ROOT/plain
	mkdir -p "$plain/d"
	echo hello > "$plain/f"
	ln -s f "$plain/l"
	echo a > "$plain/d/a"
	echo b > "$plain/d/b"
	cp "$LOWER/src.txt" "$plain/"
	U=$plain
	RUN=(in_union)
	expect "each call outside the union, with the shim active" "$WANT" "$(probe_all)"
	expect "the rename outside the union is done" hello "$(cat "$plain/g")"
	verdict
}

# patch_all: GNU patch with a backup, in a dir of the union (relative
# names, the cwd in the union) and by absolute name; then what it left.
patch_all() {
	cp "$ROOT/fix.diff" "$ROOT/fix2.diff"
	(cd "$U" && "${RUN[@]}" patch -b -p1 < "$ROOT/fix.diff" 2>&1; echo "status $?")
	"${RUN[@]}" patch -R "$U/src.txt" "$ROOT/fix2.diff" 2>&1
	echo "status $?"
	"${RUN[@]}" cat "$U/src.txt" "$U/src.txt.orig"
}

PATCHED='patching file src.txt
status 0
patching file '

@test "GNU patch works in a union, as on overlayfs, and outside every union" {
	command -v patch >/dev/null || fail "GNU patch is not installed (.ci/run installs it)"
	local ours theirs plain=$ROOT/plain
	use_union shim
	ours=$(patch_all)
	expect "patch in the union runs and patches" \
		"${PATCHED}$U/src.txt
status 0
one
two
three
one
two
three" "$ours"
	expect "the patched file and its backup land in the upper" "src.txt src.txt.orig" \
		"$(cd "$UPPER" && echo *)"
	expect "the lower is untouched" "$BEFORE" "$(snapshot "$LOWER"; snapshot "$LOWER2")"
	if can_mount_overlay; then
		rm -rf "$UPPER" "$WORK" && mkdir "$UPPER" "$WORK"
		use_union overlayfs
		theirs=$(patch_all)
		unmount_union
		expect "patch in the union as on overlayfs" "$theirs" "$ours"
	fi

	mkdir "$plain"
	cp "$LOWER/src.txt" "$plain/"
	U=$plain
	RUN=(in_union)
	expect "patch outside the union, with the shim active" \
		"${PATCHED}$plain/src.txt
status 0
one
two
three
one
two
three" "$(patch_all)"
	verdict
}

@test "GNU patch with a read-only union active: a file outside it is patched, one in it refused with a message, no crash" {
	command -v patch >/dev/null || fail "GNU patch is not installed (.ci/run installs it)"
	local out st plain=$ROOT/plain
	mkdir "$plain"
	cp "$LOWER/src.txt" "$plain/"
	out=$(in_union_ro patch "$plain/src.txt" "$ROOT/fix.diff" 2>&1) && st=0 || st=$?
	expect "patch outside the read-only union succeeds" "0 patching file $plain/src.txt" "$st $out"
	expect "the file outside is patched" "$(cat "$ROOT/new.txt")" "$(cat "$plain/src.txt")"
	out=$(in_union_ro patch "$TARGET/src.txt" "$ROOT/fix.diff" 2>&1) && st=0 || st=$?
	expect "patch in the read-only union fails with its own status 2, not a signal" 2 "$st"
	expect "patch names the read-only file system" yes \
		"$(grep -q 'Read-only file system' <<<"$out" && echo yes)"
	expect "the lower is untouched" "$BEFORE" "$(snapshot "$LOWER"; snapshot "$LOWER2")"
	verdict
}
