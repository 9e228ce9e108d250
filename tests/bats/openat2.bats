#!/usr/bin/env bats
# Promise (semantics.md "Lookup", "A lower dir is never written"): openat2
# through syscall() sees the union with the kernel's resolve rules as on a
# mount of the union: RESOLVE_BENEATH (EXDEV for an escape: "..", an
# absolute path or symlink), RESOLVE_IN_ROOT (".." and absolute paths and
# symlinks clamped at the dirfd), RESOLVE_NO_SYMLINKS (ELOOP),
# RESOLVE_NO_MAGICLINKS (ELOOP for /proc/self/fd/N/...), RESOLVE_NO_XDEV
# (EXDEV into or out of the union, and for an absolute symlink in it),
# RESOLVE_CACHED; from a dirfd at the union's root, on a dir inside it, and
# outside it with the path walking in; reads and creates. The kernel's
# checks of the open_how (size, unknown bits, EAGAIN for CACHED with
# O_CREAT) stay the kernel's. A create never lands in a lower dir.
#
# tests/probes/openat2_probe makes every call; its answers on kernel
# overlayfs over the same layers are the ones the shim must give.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/oracle

setup() {
	BROKEN=()
}

teardown() {
	unmount_union
}

o2_layers() {
	make_layers
	mkdir -p "$LOWER/d/sub" "$LOWER2/d"
	echo "lower f" >"$LOWER/f"
	echo "lower g" >"$LOWER/d/g"
	echo "lower h" >"$LOWER/d/sub/h"
	echo "gone" >"$LOWER/gone"
	ln -s d/g "$LOWER/rel"
	ln -s /d/g "$LOWER/abs"
	ln -s d "$LOWER/rel_dir"
	ln -s loop "$LOWER/loop"
	ln -s ../f "$LOWER/d/up"
	ln -s ../../x "$LOWER/d/esc"
	ln -s .. "$LOWER/d/dotdot"
	ln -s /sub/h "$LOWER/d/abs_in"
	echo "lower2 f2" >"$LOWER2/f2"
	echo "lower2 g, hidden" >"$LOWER2/d/g"
	mknod "$UPPER/gone" c 0 0 # an overlayfs-form whiteout: both read it
	echo "outside x" >"$ROOT/x"
	ln -s target "$ROOT/tl"
}

lowers() {
	snapshot "$LOWER"
	snapshot "$LOWER2"
}

# o2_run MODE FILE: into FILE, the probe's answers on fresh layers, then
# what the union and the dir outside it hold.
o2_run() {
	local before
	o2_layers
	before=$(lowers)
	use_union "$1"
	{
		"${RUN[@]}" "$(probe openat2_probe)" "$U" "$ROOT" 2>&1
		echo "--- the union after"
		"${RUN[@]}" sh -c 'cd "$1" && find . | LC_ALL=C sort | while read -r f; do
			if [ -f "$f" ] && [ ! -L "$f" ]; then echo "$f: $(head -n1 "$f")"; else echo "$f"; fi
		done' sh "$U"
		echo "--- outside"
		ls "$ROOT"
	} >"$2"
	expect "the lower dirs are never written ($1)" "$before" "$(lowers)"
	unmount_union
}

@test "openat2 resolve flags: each flag from a dirfd at the root, inside and outside the union, reads and creates, as on kernel overlayfs" {
	need_overlay
	local want=$BATS_TEST_TMPDIR/overlayfs.out got=$BATS_TEST_TMPDIR/shim.out
	o2_run overlayfs "$want"
	o2_run shim "$got"
	# a check of the scenario itself: it exercises what it claims
	grep -qx 'BENEATH ROOT \.\. read: EXDEV' "$want"
	grep -qx 'IN_ROOT ROOT abs read: lower g' "$want"
	grep -qx 'IN_ROOT INSIDE /sub/new_abs.IN_ROOT create: created' "$want"
	grep -qx 'NO_XDEV OUTSIDE target/f read: EXDEV' "$want"
	grep -qx 'NO_SYMLINKS ROOT rel read: ELOOP' "$want"
	if ! cmp -s "$want" "$got"; then
		echo "shim (+) differs from kernel overlayfs (-):"
		diff "$want" "$got" || true
		BROKEN+=("the shim's answers are kernel overlayfs's (diff above)")
	fi
	verdict
}

@test "openat2 resolve flags: from a dirfd on a lower's own dir every flag answers as openat2 without flags; in a read-only union a create is EROFS; nothing is written below" {
	o2_layers
	local before plain
	before=$(lowers)
	# names made new for each flag, and the lower file ../g itself
	for path in new ../new /sub/new ../g; do
		local name=$path
		plain=$(in_union "$(probe openat2_probe)" one "$LOWER/d/sub" "${path#/}" none create)
		for flag in BENEATH IN_ROOT NO_SYMLINKS NO_XDEV NO_MAGICLINKS; do
			[ "$path" = ../g ] || name=$path.$flag
			case $flag:$path in
			BENEATH:../* | BENEATH:/*) want=EXDEV ;;
			*) want=$plain ;;
			esac
			expect "openat2 $flag of $name from a dirfd on a lower's own dir answers as openat2 would without it" "$want" \
				"$(in_union "$(probe openat2_probe)" one "$LOWER/d/sub" "$name" "$flag" create)"
		done
	done
	for flag in none BENEATH IN_ROOT NO_SYMLINKS NO_XDEV NO_MAGICLINKS; do
		expect "openat2 $flag: a create in a lower's own dir, by a path from a dirfd outside the union, is EROFS" "EROFS" \
			"$(in_union "$(probe openat2_probe)" one "$ROOT" "lower/d/new.$flag" "$flag" create)"
		expect "openat2 $flag: a write open of a lower file by its own path from a dirfd outside the union is EROFS" "EROFS" \
			"$(in_union "$(probe openat2_probe)" one "$ROOT" lower/d/g "$flag" create)"
	done
	for flag in none BENEATH IN_ROOT NO_SYMLINKS NO_XDEV NO_MAGICLINKS; do
		expect "create in a read-only union by openat2 $flag" "EROFS" \
			"$(in_union_ro "$(probe openat2_probe)" one "$TARGET" d/new "$flag" create)"
		expect "write open of a lower file in a read-only union by openat2 $flag" "EROFS" \
			"$(in_union_ro "$(probe openat2_probe)" one "$TARGET/d" g "$flag" create)"
		expect "read in a read-only union by openat2 $flag" "lower g" \
			"$(in_union_ro "$(probe openat2_probe)" one "$TARGET/d" g "$flag" read)"
	done
	expect "the lower dirs are never written" "$before" "$(lowers)"
	verdict
}
