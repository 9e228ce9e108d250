#!/usr/bin/env bats
# Promise (semantics.md "Configuration", "Lower layers stay untouched"):
# writes are not implemented yet, so every write aimed at a union path fails
# with EROFS ("Read-only file system"), with an upper dir or without one;
# creating a name that exists fails with EEXIST first, as on a read-only
# mount; and no layer changes: not a byte, not a mode, not an mtime/ctime,
# not an xattr. Each test runs its tool in both configurations.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/itest

setup() {
	make_layers
	tool_layers
	BEFORE=$(layer_state)
}

# every union path kind: upper file, lower file, lower2-only file in a
# merged subdir, merged dir, lower-only dir, the union root
FILES=(both low_only dir/sub/b1)

# run CMD... in both unions; each must fail with PATTERN on stderr
fails_with() {
	local pattern=$1 mode
	shift
	for mode in in_union in_union_ro; do
		run --separate-stderr "$mode" "$@"
		if [ "$status" -eq 0 ] || [[ "$stderr" != *"$pattern"* ]]; then
			echo "$mode $*: status $status, stderr: $stderr (want: $pattern)"
			return 1
		fi
	done
}

erofs() { fails_with "Read-only file system" "$@"; }

unchanged() {
	same "$BEFORE" "$(layer_state)"
}

@test "a shell redirect (echo > file) into a union file is EROFS" {
	local f
	for f in "${FILES[@]}" new_file dir/new; do
		erofs bash -c 'echo x > "$1"' _ "$TARGET/$f"
		erofs bash -c 'echo x >> "$1"' _ "$TARGET/$f"
	done
	unchanged
}

@test "touch of a new name is EROFS; touch -d (utimes) of an existing one too" {
	erofs touch "$TARGET/new"
	erofs touch "$TARGET/dir/sub/new"
	local f
	for f in "${FILES[@]}" dir emptyd; do
		erofs touch -d @1000000 "$TARGET/$f"
		erofs touch "$TARGET/$f"
	done
	unchanged
}

@test "mkdir is EROFS, mkdir of an existing name is EEXIST" {
	erofs mkdir "$TARGET/newdir"
	erofs mkdir "$TARGET/dir/sub/newdir"
	erofs mkdir -p "$TARGET/emptyd/a/b"
	erofs mkdir "$TARGET/gone_oci" # a whited-out name is free
	local d
	for d in dir emptyd both opq; do
		fails_with "File exists" mkdir "$TARGET/$d"
	done
	unchanged
}

@test "rm and rmdir are EROFS" {
	local f
	for f in "${FILES[@]}" rel_link; do
		erofs rm -f "$TARGET/$f"
	done
	erofs rmdir "$TARGET/emptyd"
	erofs rm -rf "$TARGET/dir"
	unchanged
}

@test "mv is EROFS" {
	erofs mv "$TARGET/both" "$TARGET/moved"
	erofs mv "$TARGET/dir/sub/b1" "$TARGET/dir/b1"
	erofs mv "$TARGET/emptyd" "$TARGET/dir/emptyd"
	erofs mv -T "$TARGET/low_only" "$TARGET/both"
	unchanged
}

@test "ln and ln -s are EROFS, and EEXIST over an existing name" {
	erofs ln "$TARGET/both" "$TARGET/hard"
	erofs ln "$TARGET/dir/sub/b1" "$TARGET/dir/sub/hard"
	erofs ln -s both "$TARGET/soft"
	erofs ln -s /nowhere "$TARGET/dir/soft"
	fails_with "File exists" ln -s both "$TARGET/low_only"
	fails_with "File exists" ln "$TARGET/both" "$TARGET/low_only"
	unchanged
}

@test "chmod and chown are EROFS" {
	local f
	for f in "${FILES[@]}" dir emptyd; do
		erofs chmod 600 "$TARGET/$f"
		erofs chown 1:1 "$TARGET/$f"
	done
	erofs chown -h 1:1 "$TARGET/rel_link"
	unchanged
}

@test "truncate is EROFS" {
	local f
	for f in "${FILES[@]}"; do
		erofs truncate -s 0 "$TARGET/$f"
		erofs truncate -s 100 "$TARGET/$f"
	done
	erofs truncate -s 0 "$TARGET/newfile"
	unchanged
}

@test "setfattr and setfattr -x are EROFS" {
	local f
	for f in "${FILES[@]}" dir; do
		erofs setfattr -n user.x -v 1 "$TARGET/$f"
		erofs setfattr -x user.none "$TARGET/$f"
	done
	unchanged
}

@test "sed -i is EROFS" {
	local f
	for f in "${FILES[@]}"; do
		erofs sed -i s/o/0/ "$TARGET/$f"
	done
	unchanged
}

@test "cp and mkfifo into the union are EROFS" {
	echo src >"$BATS_TEST_TMPDIR/src"
	erofs cp "$BATS_TEST_TMPDIR/src" "$TARGET/new"
	erofs cp "$BATS_TEST_TMPDIR/src" "$TARGET/both"
	erofs mkfifo "$TARGET/fifo"
	unchanged
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
	local mode
	for mode in in_union in_union_ro; do
		run --separate-stderr "$mode" "$(probe write_probe)" "$TARGET/dir"
		same "$expected" "$output"
		[ "$status" -eq 0 ]
	done
	unchanged
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
