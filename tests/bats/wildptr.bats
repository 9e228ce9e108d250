#!/usr/bin/env bats
# Promise (semantics: errors as the kernel gives them): a path argument
# that points into no mapping (or runs from a mapped page into an
# unmapped one) gets -1/EFAULT from every path call, as it does natively,
# and the program goes on: the shim reads a path before the kernel does,
# so it must not fault where the kernel answers EFAULT (pjdfstest's
# */EFAULT tests: chmod/10, chown/10, link/17, mkdir/12, open/21,
# rename/17, rmdir/15, symlink/12, truncate/14, unlink/13, ...).
# tests/probes/wildptr_probe.c makes the calls; the kernel, run natively
# on a plain dir, is the oracle.

bats_require_minimum_version 1.5.0

load ../lib/common

setup() {
	make_layers
	mkdir -p "$LOWER/d" "$ROOT/plain/d"
	touch "$LOWER/f" "$ROOT/plain/f"
}

@test "wild and page-crossing path pointers: EFAULT from every path call, as natively, in a union cwd and through a union dir fd" {
	(cd "$ROOT/plain" && "$(probe wildptr_probe)") >"$ROOT/native"
	n=$(wc -l <"$ROOT/native")
	[ "$n" -ge 100 ]
	# (the oracle itself: every call answered EFAULT)
	[ "$(grep -vc 'rc=-1 errno=EFAULT$' "$ROOT/native")" -eq 0 ]
	run --separate-stderr in_union sh -c 'cd "$1" && exec "$2"' _ "$TARGET" "$(probe wildptr_probe)"
	echo "status $status"
	diff "$ROOT/native" - <<<"$output"
	[ "$status" -eq 0 ]
	# and nothing was made or copied up
	[ -z "$(ls -A "$UPPER")" ]
}
