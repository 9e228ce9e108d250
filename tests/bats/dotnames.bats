#!/usr/bin/env bats
# Promise (semantics: errors as the kernel gives them): a call whose last
# name is "." or ".." gets the kernel's answer for that kind of name
# (rmdir: EINVAL for ".", ENOTEMPTY for ".."; unlink: EISDIR; creates:
# EEXIST), never the answer for the dir the name would normalize to; a
# NULL path is EFAULT; rename of one object onto itself (the same name, or
# two hard links of one file) succeeds and changes nothing. The probe runs
# on the same layers under the shim and on kernel overlayfs.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/oracle

fill() {
	mkdir -p "$LOWER/d" "$LOWER/e" "$LOWER2/d"
	echo f >"$LOWER/d/f"
	echo g >"$LOWER2/d/g"
	echo h >"$LOWER/h1"
	ln "$LOWER/h1" "$LOWER/h2"
}

teardown() {
	unmount_union
}

@test "dotnames: last names . and .., NULL paths and self-renames answer as on overlayfs" {
	make_layers
	fill
	use_union shim
	run --separate-stderr "${RUN[@]}" "$(probe dotnames_probe)" "$U"
	[ "$status" -eq 0 ]
	local shim=$output
	local after_shim
	after_shim=$(snapshot "$LOWER"; snapshot "$LOWER2")
	make_layers
	fill
	use_union overlayfs
	run --separate-stderr "${RUN[@]}" "$(probe dotnames_probe)" "$U"
	[ "$status" -eq 0 ]
	BROKEN=()
	expect "every call answers as on overlayfs" "$output" "$shim"
	expect "the lowers are untouched" "$(snapshot "$LOWER"; snapshot "$LOWER2")" "$after_shim"
	verdict
}

@test "dotnames: rename of a merged dir onto itself keeps its contents" {
	make_layers
	fill
	in_union mv -T "$TARGET/d" "$TARGET/d" 2>/dev/null || true
	run in_union "$(probe dotnames_probe)" "$TARGET"
	[ "$status" -eq 0 ]
	grep -qx 'rename       d d        0 -' <<<"$output"
	run in_union ls "$TARGET/d"
	[ "$output" = $'f\ng' ]
}
