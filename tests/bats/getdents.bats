#!/usr/bin/env bats
# getdents64, through syscall() and glibc's getdents64(), lists a union dir
# merged: upper and lower names, without whiteouts or hidden names, across
# several calls with a small buffer, and again after a rewind.

load ../lib/common

setup() {
	make_layers
	mkdir -p "$LOWER/d" "$UPPER/d" "$LOWER2/d"
	for i in $(seq 1 12); do echo "$i" > "$LOWER/d/lower-file-$i"; done
	echo u > "$UPPER/d/upper-only"
	echo l2 > "$LOWER2/d/bottom-only"
	echo gone > "$LOWER/d/hidden"
	: > "$UPPER/d/.wh.hidden"
	{ echo .; echo ..; for i in $(seq 1 12); do echo "lower-file-$i"; done
	  echo upper-only; echo bottom-only; } | sort > "$BATS_TEST_TMPDIR/expected"
}

check_listing() {
	run in_union "$(probe getdents_probe)" "$1" "$TARGET/d"
	[ "$status" -eq 0 ]
	printf '%s\n' "${lines[@]}" | grep -v '^again ' | sort > "$BATS_TEST_TMPDIR/got"
	diff -u "$BATS_TEST_TMPDIR/expected" "$BATS_TEST_TMPDIR/got"
	[ "${lines[-1]}" = "again 16" ]
}

@test "getdents64 through syscall() lists the merged union dir" {
	check_listing syscall
}

@test "glibc's getdents64() lists the merged union dir" {
	check_listing libc
}
