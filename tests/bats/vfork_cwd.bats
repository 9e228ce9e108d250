#!/usr/bin/env bats
# Promise (semantics.md "Processes"): a vfork child's chdir or fchdir is
# its own, as the kernel's cwd is: the parent, resumed, keeps its cwd and
# its relative names; the child's relative names and the program it
# execs start from the child's dir. (Python's subprocess with cwd= chdirs
# in a vfork child; under the shim, which keeps the union cwd in memory
# the child shares, the parent took the child's dir as its own.)
# tests/probes/vfork_cwd_probe.c does the work, on the shim and on kernel
# overlayfs.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/oracle

setup() {
	make_layers
	mkdir -p "$LOWER/sub"
	echo l >"$LOWER/sub/lowerfile"
	BEFORE=$(snapshot "$ROOT/lower"; snapshot "$ROOT/lower2")
}

teardown() {
	unmount_union
}

WANT='  child cwd: /sub /sub
  lowerfile
  made-by-chdir-child
chdir: child status 0, parent cwd .
  child cwd: /sub /sub
  lowerfile
  made-by-chdir-child
  made-by-fchdir-child
fchdir: child status 0, parent cwd .
parent-after-chdir
parent-after-fchdir
sub
sub/lowerfile
sub/made-by-chdir-child
sub/made-by-fchdir-child'

vfork_chdir() {
	use_union "$1"
	run "${RUN[@]}" timeout 60 "$(probe vfork_cwd_probe)" "$U" sub
	expect "a vfork child's chdir and fchdir are its own: the parent's cwd and relative names stay ($1)" \
		"$WANT" "$output"$'\n'"$("${RUN[@]}" sh -c 'cd "$1" && find . -mindepth 1' sh "$U" |
			sed 's|^\./||' | LC_ALL=C sort)"
	expect "the lowers are never written ($1)" "$BEFORE" \
		"$(snapshot "$ROOT/lower"; snapshot "$ROOT/lower2")"
	verdict
}

@test "a vfork child's chdir and fchdir move neither its parent's cwd nor where the parent's relative names land (shim)" {
	vfork_chdir shim
}

@test "a vfork child's chdir and fchdir: the same on kernel overlayfs" {
	vfork_chdir overlayfs
}
