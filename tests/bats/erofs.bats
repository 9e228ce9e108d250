#!/usr/bin/env bats
# Promise (semantics.md "Configuration", "Copy-up", "Lower layers stay
# untouched"): in a union WITHOUT an upper dir every write aimed at a union
# path fails with EROFS ("Read-only file system"); creating a name that
# exists fails with EEXIST first, as on a read-only mount; and no layer
# changes: not a byte, not a mode, not an mtime/ctime, not an xattr. In the
# same union WITH an upper dir each of those writes succeeds: its effect
# shows through the union, lands in the upper, and the lower dirs stay as
# they were. Each test runs its tool in both configurations.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/itest
load ../lib/copyup

setup() {
	make_layers
	tool_layers
	BEFORE=$(layer_state)
	LOWER_BEFORE=$(lower_state)
}

# every union path kind: upper file, lower file, lower2-only file in a
# merged subdir, merged dir, lower-only dir, the union root
FILES=(both low_only dir/sub/b1)

# run CMD... in both unions (MODES, default both); each must fail with
# PATTERN on stderr
fails_with() {
	local pattern=$1 mode
	shift
	for mode in ${MODES:-in_union in_union_ro}; do
		run --separate-stderr "$mode" "$@"
		if [ "$status" -eq 0 ] || [[ "$stderr" != *"$pattern"* ]]; then
			echo "$mode $*: status $status, stderr: $stderr (want: $pattern)"
			return 1
		fi
	done
}

# the read-only union refuses CMD...
erofs() { MODES=in_union_ro fails_with "Read-only file system" "$@"; }

# the union with an upper runs CMD... successfully
lands() {
	run --separate-stderr in_union "$@"
	if [ "$status" -ne 0 ]; then
		echo "in_union $*: status $status, stderr: $stderr"
		return 1
	fi
}

# union path P shows TEXT (cat through the union with an upper)
shows() {
	same "$2" "$(in_union cat "$TARGET/$1")"
}

# union path P is gone (lstat fails through the union with an upper)
gone() {
	run in_union stat "$TARGET/$1"
	[ "$status" -ne 0 ] || { echo "$1 still in the union"; return 1; }
}

# no layer changed (after the read-only half of a test)
unchanged() {
	same "$BEFORE" "$(layer_state)"
}

@test "a shell redirect (echo > file) into a union file: EROFS read-only, lands in the upper" {
	local f
	for f in "${FILES[@]}" new_file dir/new; do
		erofs bash -c 'echo x > "$1"' _ "$TARGET/$f"
		erofs bash -c 'echo x >> "$1"' _ "$TARGET/$f"
	done
	unchanged
	for f in "${FILES[@]}" new_file dir/new; do
		lands bash -c 'echo x > "$1"' _ "$TARGET/$f"
		lands bash -c 'echo y >> "$1"' _ "$TARGET/$f"
		shows "$f" $'x\ny'
		same $'x\ny' "$(cat "$UPPER/$f")"
	done
	lower_unchanged
}

@test "touch of a new name, touch -d (utimes) of an existing one: EROFS read-only, lands in the upper" {
	erofs touch "$TARGET/new"
	erofs touch "$TARGET/dir/sub/new"
	local f
	for f in "${FILES[@]}" dir emptyd; do
		erofs touch -d @1000000 "$TARGET/$f"
		erofs touch "$TARGET/$f"
	done
	unchanged
	lands touch "$TARGET/new"
	lands touch "$TARGET/dir/sub/new"
	[ -f "$UPPER/new" ] && [ -f "$UPPER/dir/sub/new" ]
	for f in "${FILES[@]}" dir emptyd; do
		lands touch -d @1000000 "$TARGET/$f"
		same 1000000 "$(in_union stat -c %Y "$TARGET/$f")"
		same 1000000 "$(stat -c %Y "$UPPER/$f")"
	done
	shows dir/sub/b1 "sub b1"
	lower_unchanged
}

@test "mkdir: EROFS read-only, lands in the upper; EEXIST for an existing name in both" {
	erofs mkdir "$TARGET/newdir"
	erofs mkdir "$TARGET/dir/sub/newdir"
	erofs mkdir -p "$TARGET/emptyd/a/b"
	erofs mkdir "$TARGET/gone_oci" # a whited-out name is free
	local d
	for d in dir emptyd both opq; do
		fails_with "File exists" mkdir "$TARGET/$d"
	done
	unchanged
	lands mkdir "$TARGET/newdir"
	lands mkdir "$TARGET/dir/sub/newdir"
	lands mkdir -p "$TARGET/emptyd/a/b"
	lands mkdir "$TARGET/gone_oci"
	[ -d "$UPPER/newdir" ] && [ -d "$UPPER/dir/sub/newdir" ] && [ -d "$UPPER/emptyd/a/b" ] && [ -d "$UPPER/gone_oci" ]
	same "" "$(in_union ls -A "$TARGET/gone_oci")"
	same "a1 b1 newdir" "$(in_union ls "$TARGET/dir/sub" | xargs)"
	lower_unchanged
}

@test "rm and rmdir: EROFS read-only; with an upper the names go, whiteouts stay" {
	local f
	for f in "${FILES[@]}" rel_link; do
		erofs rm -f "$TARGET/$f"
	done
	erofs rmdir "$TARGET/emptyd"
	erofs rm -rf "$TARGET/dir"
	unchanged
	for f in "${FILES[@]}" rel_link; do
		lands rm -f "$TARGET/$f"
		gone "$f"
	done
	[ -f "$UPPER/.wh.both" ] && [ -f "$UPPER/.wh.low_only" ] && [ -f "$UPPER/.wh.rel_link" ]
	lands rmdir "$TARGET/emptyd"
	gone emptyd
	lands rm -rf "$TARGET/dir"
	gone dir
	same "abs_link kind l2_only opq opq2 up_only" "$(in_union ls "$TARGET" | xargs)"
	lower_unchanged
}

@test "mv: EROFS read-only, lands in the upper" {
	erofs mv "$TARGET/both" "$TARGET/moved"
	erofs mv "$TARGET/dir/sub/b1" "$TARGET/dir/b1"
	erofs mv "$TARGET/emptyd" "$TARGET/dir/emptyd"
	erofs mv -T "$TARGET/low_only" "$TARGET/both"
	unchanged
	lands mv "$TARGET/both" "$TARGET/moved"
	shows moved "upper both"
	lands mv "$TARGET/dir/sub/b1" "$TARGET/dir/b1"
	shows dir/b1 "sub b1"
	gone dir/sub/b1
	lands mv "$TARGET/emptyd" "$TARGET/dir/emptyd"
	gone emptyd
	same "" "$(in_union ls -A "$TARGET/dir/emptyd")"
	lands mv -T "$TARGET/low_only" "$TARGET/both"
	shows both "lower only"
	gone low_only
	lower_unchanged
}

@test "ln and ln -s: EROFS read-only, land in the upper; EEXIST over an existing name in both" {
	erofs ln "$TARGET/both" "$TARGET/hard"
	erofs ln "$TARGET/dir/sub/b1" "$TARGET/dir/sub/hard"
	erofs ln -s both "$TARGET/soft"
	erofs ln -s /nowhere "$TARGET/dir/soft"
	fails_with "File exists" ln -s both "$TARGET/low_only"
	fails_with "File exists" ln "$TARGET/both" "$TARGET/low_only"
	unchanged
	lands ln "$TARGET/both" "$TARGET/hard"
	shows hard "upper both"
	lands ln "$TARGET/dir/sub/b1" "$TARGET/dir/sub/hard"
	shows dir/sub/hard "sub b1"
	lands ln -s both "$TARGET/soft"
	shows soft "upper both"
	lands ln -s /nowhere "$TARGET/dir/soft"
	same /nowhere "$(in_union readlink "$TARGET/dir/soft")"
	same /nowhere "$(readlink "$UPPER/dir/soft")"
	lower_unchanged
}

@test "chmod and chown: EROFS read-only, land in the upper" {
	local f
	for f in "${FILES[@]}" dir emptyd; do
		erofs chmod 600 "$TARGET/$f"
		erofs chown 1:1 "$TARGET/$f"
	done
	erofs chown -h 1:1 "$TARGET/rel_link"
	unchanged
	for f in "${FILES[@]}" dir emptyd; do
		lands chmod 600 "$TARGET/$f"
		lands chown 1:1 "$TARGET/$f"
		same "600 1:1" "$(in_union stat -c '%a %u:%g' "$TARGET/$f")"
		same "600 1:1" "$(stat -c '%a %u:%g' "$UPPER/$f")"
	done
	lands chown -h 1:1 "$TARGET/rel_link"
	same "1:1 dir/sub/b1" "$(stat -c %u:%g "$UPPER/rel_link") $(readlink "$UPPER/rel_link")"
	lower_unchanged
}

@test "truncate: EROFS read-only, lands in the upper" {
	local f
	for f in "${FILES[@]}"; do
		erofs truncate -s 0 "$TARGET/$f"
		erofs truncate -s 100 "$TARGET/$f"
	done
	erofs truncate -s 0 "$TARGET/newfile"
	unchanged
	for f in "${FILES[@]}"; do
		lands truncate -s 0 "$TARGET/$f"
		lands truncate -s 100 "$TARGET/$f"
		same 100 "$(in_union stat -c %s "$TARGET/$f")"
		same "$(head -c 100 /dev/zero | sha256sum)" "$(sha256sum <"$UPPER/$f")"
	done
	lands truncate -s 0 "$TARGET/newfile"
	same 0 "$(stat -c %s "$UPPER/newfile")"
	lower_unchanged
}

@test "setfattr: EROFS read-only, lands in the upper; setfattr -x of a missing name is ENODATA" {
	local f
	for f in "${FILES[@]}" dir; do
		erofs setfattr -n user.x -v 1 "$TARGET/$f"
		erofs setfattr -x user.none "$TARGET/$f"
	done
	unchanged
	for f in "${FILES[@]}" dir; do
		lands setfattr -n user.x -v 1 "$TARGET/$f"
		same 1 "$(in_union getfattr --only-values -n user.x "$TARGET/$f")"
		same 1 "$(getfattr --only-values -n user.x "$UPPER/$f")"
		MODES=in_union fails_with "No such attribute" setfattr -x user.none "$TARGET/$f"
		lands setfattr -x user.x "$TARGET/$f"
		MODES=in_union fails_with "No such attribute" getfattr -n user.x "$TARGET/$f"
	done
	lower_unchanged
}

@test "sed -i: EROFS read-only, lands in the upper" {
	local f
	for f in "${FILES[@]}"; do
		erofs sed -i s/o/0/ "$TARGET/$f"
	done
	unchanged
	for f in "${FILES[@]}"; do
		lands sed -i s/o/0/ "$TARGET/$f"
	done
	shows both "upper b0th"
	shows low_only "l0wer only"
	shows dir/sub/b1 "sub b1"
	same "l0wer only" "$(cat "$UPPER/low_only")"
	lower_unchanged
}

@test "cp and mkfifo into the union: EROFS read-only, land in the upper" {
	echo src >"$BATS_TEST_TMPDIR/src"
	erofs cp "$BATS_TEST_TMPDIR/src" "$TARGET/new"
	erofs cp "$BATS_TEST_TMPDIR/src" "$TARGET/both"
	erofs mkfifo "$TARGET/fifo"
	unchanged
	lands cp "$BATS_TEST_TMPDIR/src" "$TARGET/new"
	lands cp "$BATS_TEST_TMPDIR/src" "$TARGET/low_only"
	shows new src
	shows low_only src
	lands mkfifo "$TARGET/fifo"
	same fifo "$(in_union stat -c %F "$TARGET/fifo")"
	[ -p "$UPPER/fifo" ]
	lower_unchanged
}

@test "reads still work and copy nothing up" {
	run in_union cat "$TARGET/both" "$TARGET/dir/sub/b1"
	[ "$status" -eq 0 ]
	run in_union_ro cat "$TARGET/both" "$TARGET/dir/sub/b1"
	[ "$status" -eq 0 ]
	unchanged
}

# The C probe: one line per libc entry point, "call ERRNO".
@test "write_probe: every write entry point reports EROFS or EEXIST" {
	local expected="open_wronly EROFS
open_rdwr EROFS
open_trunc EROFS
open_append EROFS
open_creat_new EROFS
open_creat_excl_existing EEXIST
open_creat_existing_wronly EROFS
open_tmpfile EROFS
openat_dirfd_wronly EROFS
openat_dirfd_creat EROFS
openat_dirfd_excl_existing EEXIST
creat EROFS
truncate EROFS
fopen_w EROFS
fopen_a EROFS
fopen_rplus EROFS
fopen_r OK
mkdir EROFS
mkdir_existing EEXIST
mkdirat_dirfd EROFS
rmdir EROFS
unlink EROFS
unlinkat_dirfd EROFS
rename EROFS
renameat_dirfd EROFS
link EROFS
link_existing EEXIST
symlink EROFS
symlink_existing EEXIST
chmod EROFS
chown EROFS
utimensat EROFS
utimes EROFS
setxattr EROFS
removexattr EROFS
mknod EROFS
mkfifo EROFS
mkstemp EROFS
access_w EROFS
access_r OK"
	run --separate-stderr in_union_ro "$(probe write_probe)" "$TARGET/dir"
	same "$expected" "$output"
	[ "$status" -eq 0 ]
	unchanged
}

# With an upper every call succeeds or fails as on kernel overlayfs (the
# calls run in sequence, so unlink makes later calls on "a" ENOENT).
WRITE_PROBE_RW="open_wronly OK
open_rdwr OK
open_trunc OK
open_append OK
open_creat_new OK
open_creat_excl_existing EEXIST
open_creat_existing_wronly OK
open_tmpfile OK
openat_dirfd_wronly OK
openat_dirfd_creat OK
openat_dirfd_excl_existing EEXIST
creat OK
truncate OK
fopen_w OK
fopen_a OK
fopen_rplus OK
fopen_r OK
mkdir OK
mkdir_existing EEXIST
mkdirat_dirfd OK
rmdir ENOTEMPTY
unlink OK
unlinkat_dirfd OK
rename ENOENT
renameat_dirfd ENOENT
link ENOENT
link_existing ENOENT
symlink OK
symlink_existing OK
chmod ENOENT
chown ENOENT
utimensat ENOENT
utimes ENOENT
setxattr ENOENT
removexattr ENOENT
mknod OK
mkfifo OK
mkstemp OK
access_w ENOENT
access_r ENOENT"

# the union's dir/ after the probe (as kernel overlayfs leaves it)
UNION_AFTER_PROBE=". d 755 4096
./b l 777 1 a
./c f 644 6
./new1 f 644 0
./new10 p 644 0
./new11 p 644 0
./new2 f 644 0
./new3 f 644 0
./new4 d 755 4096
./new5 d 755 4096
./new9 l 777 1 a
./newXXXXXX f 600 0
./sub d 755 4096
./sub/a1 f 644 7
./sub/b1 f 644 7"

# what the probe leaves in DIR, seen by RUNNER (the mkstemp name masked)
probe_tree() {
	"$1" bash -c 'cd "$1" && find . -printf "%p %y %m %s %l\n"' _ "$2" |
		sed 's#^\./new[A-Za-z0-9]\{6\} #./newXXXXXX #; s/ *$//' | LC_ALL=C sort
}

@test "write_probe with an upper: every entry point writes into the upper, the lowers stay" {
	run --separate-stderr in_union "$(probe write_probe)" "$TARGET/dir"
	same "$WRITE_PROBE_RW" "$output"
	[ "$status" -eq 0 ]
	same "$UNION_AFTER_PROBE" "$(probe_tree in_union "$TARGET/dir")"
	[ -p "$UPPER/dir/new10" ] && [ -d "$UPPER/dir/new4" ] && [ -f "$UPPER/dir/new1" ]
	[ -f "$UPPER/dir/.wh.a" ] && [ -L "$UPPER/dir/b" ]
	lower_unchanged
}

# ... and kernel overlayfs, on copies of the same layers, answers the same
# and leaves the same union.
@test "write_probe with an upper: kernel overlayfs gives the same answers and the same tree" {
	need_overlay
	local k=$BATS_TEST_TMPDIR/k
	mkdir -p "$k/w" "$k/m"
	cp -a "$LOWER" "$k/l"
	cp -a "$LOWER2" "$k/l2"
	cp -a "$UPPER" "$k/u"
	mount -t overlay overlay -o "lowerdir=$k/l:$k/l2,upperdir=$k/u,workdir=$k/w" "$k/m"
	run --separate-stderr "$(probe write_probe)" "$k/m/dir"
	local kernel_tree
	kernel_tree=$(probe_tree env "$k/m/dir")
	umount "$k/m"
	same "$WRITE_PROBE_RW" "$output"
	run --separate-stderr in_union "$(probe write_probe)" "$TARGET/dir"
	same "$WRITE_PROBE_RW" "$output"
	same "$kernel_tree" "$(probe_tree in_union "$TARGET/dir")"
	lower_unchanged
}

# The probe agrees with the kernel's own read-only mount (a ro bind mount of
# the bottom lower, which has the same names), where mounting is allowed.
@test "write_probe: the kernel's ro bind mount gives the same answers" {
	local mnt=$BATS_TEST_TMPDIR/ro
	mkdir "$mnt"
	mount --bind -o ro "$LOWER2" "$mnt" 2>/dev/null || skip "no bind mounts here"
	run --separate-stderr "$(probe write_probe)" "$mnt/dir"
	umount "$mnt"
	[ "$status" -eq 0 ]
	kernel=$output
	run --separate-stderr in_union_ro "$(probe write_probe)" "$TARGET/dir"
	same "$kernel" "$output"
}
