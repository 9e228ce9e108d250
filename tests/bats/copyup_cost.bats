#!/usr/bin/env bats
# Promise (issue 10, "copy-up at the floor"): a copy-up of a small lower
# file costs the system calls its promises need (atomic temp + rename,
# metadata, origin record, parent times) and no more: no lock file, one
# SEEK_HOLE and no ftruncate for a file without holes, a way of copying
# the filesystems refused (FICLONE, copy_file_range) tried once per
# process, not once per file, nothing the lookup learnt asked again (the
# lower file's stat, the upper dir's presence), no getpid. And the
# read/write fallback leaves no buffer behind per thread. Shim only: the
# counts are the shim's own.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/itest

N=20 # files copied up per run

setup() {
	command -v strace >/dev/null || skip "no strace"
	make_layers
	FS=
}

teardown() {
	if [ -n "$FS" ] && mountpoint -q "$FS"; then umount "$FS"; fi
}

# N lower files of 4 KiB in LOWER/cu (no holes).
lower_files() {
	mkdir -p "$LOWER/cu"
	for i in $(seq 1 $N); do head -c 4096 /dev/urandom >"$LOWER/cu/f$i"; done
}

names() { for i in $(seq 1 $N); do echo "$TARGET/cu/f$i"; done; }

# Open each of the N files for writing (no write) in one process, under
# strace (itself outside the union); the trace goes to $1.
open_all() {
	strace -f -qq -o "$1" -E LD_PRELOAD="$SHIM_LIB" -E UNIONSHIM_MOUNTS="$(mounts_spec)" \
		"$(probe copyup_many)" $(names)
}

# How many calls of system call NAME the trace $1 holds.
calls() { grep -c -E "^[0-9]+ +$2\(" "$1" || true; }

# Stat-family calls of trace $1 naming the real path $2 exactly.
stats_of() { grep -cE "^[0-9]+ +(stat|lstat|newfstatat|statx)\((AT_FDCWD, )?\"$2\"" "$1" || true; }

# SEEK_DATA and SEEK_HOLE looks in trace $1.
seeks() { grep -c -E 'SEEK_(DATA|HOLE)' "$1" || true; }

fail() {
	echo "$*" >&2
	return 1
}

# Lines of trace $1 (total system calls).
total() { wc -l <"$1"; }

@test "a copy-up of a 4 KiB file without holes: no lock file, one SEEK_HOLE, no ftruncate, refusals tried once, no stat asked twice, at most 23 system calls" {
	lower_files
	local t1=$ROOT/copy.trace t2=$ROOT/again.trace
	open_all "$t1"
	for i in $(seq 1 $N); do cmp -s "$LOWER/cu/f$i" "$UPPER/cu/f$i" || fail "f$i: not copied whole"; done
	open_all "$t2" # the same opens, every file upper now: no copy-up
	same 0 "$(calls "$t1" flock)"
	same 0 "$(grep -c '#lock' "$t1" || true)"
	same $N "$(seeks "$t1")"
	same 0 "$(calls "$t1" ftruncate)"
	[ "$(grep -c 'FICLONE' "$t1" || true)" -le 1 ] || fail "FICLONE tried $(grep -c FICLONE "$t1") times"
	local per=$(( ($(total "$t1") - $(total "$t2")) / N ))
	echo "system calls per copy-up: $per" >&3
	# what the lookup learnt is not asked again: the lower file is
	# stat'ed by the lookup alone (the copy's fstat tells the rest), the
	# upper dir by the placing alone (its times kept), once per file (the
	# first copy-up brings the dir up too)
	for i in 1 $N; do same 1 "$(stats_of "$t1" "$LOWER/cu/f$i")"; done
	[ "$(stats_of "$t1" "$UPPER/cu")" -le $((N + 3)) ] ||
		fail "$UPPER/cu stat'ed $(stats_of "$t1" "$UPPER/cu") times for $N copy-ups"
	# the temp's name takes the pid from the library's cache (asked once,
	# at the start)
	[ "$(calls "$t1" getpid)" -le 1 ] || fail "getpid called $(calls "$t1" getpid) times"
	# 22: the lookup caches hear of the copy-up in two halves (a change
	# begun, then ended: two futex calls), so no thread meets a view of
	# the dir from before it while it is placed (lcache.h); 23: the
	# caller's write permission on the lower file is asked first, as
	# overlayfs asks it (one faccessat: mayact.h)
	[ "$per" -le 23 ] || fail "$per system calls per copy-up (at most 23)"
}

# The upper and work dir on a tmpfs, the lower on the disk: FICLONE and
# copy_file_range fail with EXDEV, the data goes by read/write.
cross_fs() {
	FS=$ROOT/fs
	mkdir -p "$FS"
	mount -t tmpfs tmpfs "$FS" 2>/dev/null || skip "cannot mount a tmpfs"
	UPPER=$FS/upper WORK=$FS/work
	mkdir -p "$UPPER" "$WORK"
}

@test "lower and upper on different filesystems: FICLONE and copy_file_range are tried once per process, not per file" {
	cross_fs
	lower_files
	local t=$ROOT/copy.trace
	open_all "$t"
	for i in $(seq 1 $N); do cmp -s "$LOWER/cu/f$i" "$UPPER/cu/f$i" || fail "f$i: not copied whole"; done
	[ "$(grep -c 'FICLONE' "$t" || true)" -le 1 ] || fail "FICLONE tried $(grep -c FICLONE "$t") times"
	[ "$(calls "$t" copy_file_range)" -le 1 ] || fail "copy_file_range tried $(calls "$t" copy_file_range) times"
	[ "$(calls "$t" pwrite64)" -ge $N ] || fail "the read/write loop did not copy"
}

@test "the read/write fallback keeps no buffer per thread: 64 threads copying up one file each leave VmData flat" {
	cross_fs
	N=72 lower_files
	N=72 run --separate-stderr in_union "$(probe copyup_many)" -t $(N=72 names)
	[ "$status" -eq 0 ] || fail "status $status: $stderr"
	cmp -s "$LOWER/cu/f72" "$UPPER/cu/f72" || fail "f72: not copied whole"
	echo "VmData growth over 64 threads: $output KiB"
	[ "$output" -lt 8192 ] || fail "VmData grew by $output KiB over 64 threads"
}
