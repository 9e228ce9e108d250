#!/usr/bin/env bats
# Promise (semantics.md "Robustness"; README "Full disk"): the shim's own
# shared state in the work dir (#state, mapped by every process of the
# union) never makes a process die. It is allocated whole when it is made
# (and when a sparse one, left by an older version, is found), so a full
# upper gives programs ENOSPC on their writes, as overlayfs does, and never
# SIGBUS on a page of the mapping with no block under it; a process that
# cannot have it allocated does not start: one `unionshim:` line, status
# 125, before main.
#
# The upper and work dirs live on a small tmpfs mounted for the test
# (root). The full-disk scenario runs under the shim and, as the oracle,
# on kernel overlayfs over the same layers.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/oracle

STATE_SIZE=57344 # (4096 slots + 16 words + 4096 unused dir slots + 16
		 # words + 4096 dir slots + 16 words, to a 4 KiB boundary,
		 # + 1024 words of marked dirs) * 4 bytes

setup() {
	make_layers
	FS=$ROOT/fs
	mkdir "$FS"
	mount -t tmpfs -o size=1m tmpfs "$FS" 2>/dev/null || skip "cannot mount a tmpfs here (needs root)"
	UPPER=$FS/upper
	WORK=$FS/work
	mkdir "$UPPER" "$WORK"
	for i in $(seq 1 64); do echo "file $i" >"$LOWER/f$i"; done
}

teardown() {
	unmount_union
	if mountpoint -q "$FS"; then umount "$FS" || umount -l "$FS"; fi
}

fill() { head -c 2000000 /dev/zero >"$FS/filler" 2>/dev/null || true; }

# What a program sees on the full disk: every lower file read through the
# union (their slots spread over every page of #state), then an append to
# one (a copy-up); "status N" when the shell did not exit 0.
full_disk_session() {
	local out rc=0
	out=$("${RUN[@]}" sh -c '
		for i in $(seq 1 64); do cat "$1/f$i"; done | sha256sum
		if { echo more >>"$1/f3"; } 2>"$2"; then echo appended; else cat "$2"; fi
		ls "$1" | wc -l' _ "$U" "$ROOT/err" 2>&1) || rc=$?
	echo "$out"
	[ $rc -eq 0 ] || echo "status $rc"
}

full_disk() {
	local want run_before
	use_union "$1"
	want=$(cat "$LOWER"/f{1..64} | sha256sum
		echo "_: 3: cannot create $U/f3: No space left on device"; echo 64)
	"${RUN[@]}" ls "$U" >/dev/null # the union is in use (#state made)
	# a process of the union already running when the disk fills up
	mkfifo "$ROOT/go"
	"${RUN[@]}" sh -c 'read x <"$1"; for i in $(seq 1 64); do cat "$2/f$i"; done | sha256sum' \
		_ "$ROOT/go" "$U" >"$ROOT/before.out" 2>&1 &
	run_before=$!
	fill
	echo go >"$ROOT/go"
	wait $run_before && echo "exit 0" >>"$ROOT/before.out" || echo "exit $?" >>"$ROOT/before.out"
	expect "Full upper: a process running since before the disk filled reads on and exits 0" \
		"$(cat "$LOWER"/f{1..64} | sha256sum; echo "exit 0")" "$(cat "$ROOT/before.out")"
	expect "Full upper: new processes read every file, their writes fail with ENOSPC, none is killed" \
		"$want" "$(full_disk_session)"
	rm "$FS/filler"
	expect "Full upper: the same writes work once space is freed" \
		"appended" "$("${RUN[@]}" sh -c 'echo more >>"$1/f3" && echo appended' _ "$U" 2>&1)"
	verdict
}

@test "full upper: processes keep running, reads work, writes get ENOSPC, no SIGBUS (shim)" {
	full_disk shim
}

@test "full upper: processes keep running, reads work, writes get ENOSPC, no SIGBUS (overlayfs oracle)" {
	full_disk overlayfs
}

@test "#state is allocated whole when it is made" {
	in_union ls "$TARGET" >/dev/null
	[ "$(stat -c %s "$WORK/#state")" -eq $STATE_SIZE ]
	[ $(($(stat -c %b "$WORK/#state") * 512)) -ge $STATE_SIZE ]
}

@test "#state left sparse (an older version) is allocated by the next process, its counters kept" {
	truncate -s $STATE_SIZE "$WORK/#state"
	printf '\x07' | dd of="$WORK/#state" bs=1 seek=8192 conv=notrunc 2>/dev/null
	[ $(($(stat -c %b "$WORK/#state") * 512)) -lt $STATE_SIZE ]
	in_union cat "$TARGET/f1" >/dev/null
	[ $(($(stat -c %b "$WORK/#state") * 512)) -ge $STATE_SIZE ]
	[ "$(od -An -tx1 -j8192 -N1 "$WORK/#state" | tr -d ' ')" = 07 ]
}

# stat_walks: stat-family calls on the layers for 100 stats of one lower
# file by one process (a cached path costs the stat of the real file; an
# uncached one walks the layers each time).
stat_walks() {
	mkdir -p "$LOWER/a/b"
	echo deep >"$LOWER/a/b/f"
	in_union strace -f -qq -e signal=none -o "$ROOT/trace" \
		-e trace=stat,lstat,newfstatat,statx python3 -c '
import os, sys
for _ in range(100):
    os.stat(sys.argv[1])
' "$TARGET/a/b/f"
	grep -c "$ROOT/lower2\?/a" "$ROOT/trace" || true
}

@test "#state of the first form (32,832 bytes, dirs counted by ones) is grown; its dirs are cached again" {
	command -v strace >/dev/null || skip "no strace"
	# every word of the old form odd-looking: read as changes under way,
	# it would keep every dir out of the caches
	head -c 32832 /dev/zero | tr '\0' '\5' >"$WORK/#state"
	chmod 666 "$WORK/#state"
	n=$(stat_walks)
	echo "stat calls on the lower for 100 stats: $n"
	[ "$(stat -c %s "$WORK/#state")" -eq $STATE_SIZE ]
	[ "$n" -le 110 ]
}

@test "#state of the second form (49,280 bytes) over an upper holding copies is grown and scanned: the copies keep their inode numbers, a dir without one reads no record" {
	command -v strace >/dev/null || skip "no strace"
	mkdir -p "$LOWER/c" "$UPPER/c" "$UPPER/plain"
	echo low >"$LOWER/c/copied"
	echo low >"$LOWER/c/other"
	echo copy >"$UPPER/c/copied" # an earlier version's copy-up: its record
	python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.unionshim.origin", ("1:%d:1" % os.stat(sys.argv[2]).st_ino).encode())' \
		"$UPPER/c/copied" "$LOWER/c/copied"
	for i in $(seq 1 20); do echo p >"$UPPER/plain/p$i"; done
	# the second form, its origins word set ("records may be anywhere"),
	# as an earlier version left it
	python3 - "$WORK/#state" <<'PY'
import struct, sys
b = bytearray(49280)
struct.pack_into("<I", b, 4096 * 4, 1)
open(sys.argv[1], "wb").write(b)
PY
	chmod 666 "$WORK/#state"
	# the union's number of a lower object (tagged with its layer unless
	# the layers share a filesystem), from one that was never copied
	tag=$(($(in_union stat -c %i "$TARGET/c/other") - $(stat -c %i "$LOWER/c/other")))
	want=$(($(stat -c %i "$LOWER/c/copied") + tag))
	got=$(in_union stat -c %i "$TARGET/c/copied")
	echo "c/copied: st_ino $got, its origin's $want"
	[ "$(stat -c %s "$WORK/#state")" -eq $STATE_SIZE ]
	[ "$got" = "$want" ]
	in_union strace -f -qq -o "$ROOT/trace" ls -li "$TARGET/plain" >/dev/null
	n=$(grep -cE 'unionshim\.origin|getxattrat|syscall_0x1d0' "$ROOT/trace" || true)
	echo "origin records read listing plain/ (20 files): $n"
	[ "$n" -le 2 ]
	# and a listing of c/ shows the copy's number too
	[ "$(in_union ls -i "$TARGET/c" | awk '$2 == "copied" {print $1}')" = "$want" ]
}

# start_fails: a program started in the union with #state unallocatable.
start_fails() {
	run --separate-stderr in_union sh -c 'echo main ran'
	[ "$status" -eq 125 ]
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ $stderr == "unionshim: work dir $WORK: cannot allocate #state: No space left on device" ]]
}

@test "a start on a full upper that cannot allocate a new #state: status 125, one unionshim: line, main never runs" {
	fill
	start_fails
	# unionrun's child says the same
	run --separate-stderr "$UNIONRUN" --lower "$LOWER" --upper "$UPPER" --work "$WORK" --at "$TARGET" -- true
	[ "$status" -eq 125 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ $stderr == "unionshim: "*"cannot allocate #state"* ]]
}

@test "a start on a full upper that cannot allocate a sparse #state left by an older version: status 125, one line" {
	truncate -s $STATE_SIZE "$WORK/#state"
	fill
	start_fails
	rm "$FS/filler"
	run in_union sh -c 'echo main ran'
	[ "$status" -eq 0 ]
	[ "$output" = "main ran" ]
}
