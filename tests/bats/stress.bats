#!/usr/bin/env bats
# Promise (semantics.md, copy-up and the fd map): many threads of one
# process using the union at once (open, dup, dup2, close, stat, fstat,
# read, copy-up appends, renames, unlinks, listings, a fork now and then)
# each see whole files only, never a half-copied one nor a work-dir name,
# nothing fails but ENOENT from a name another thread removed, and the
# lowers are never written. tests/probes/stress_probe.c does the work; it
# runs for STRESS_SECS seconds (2.5 by default; `make check-sanitize` runs
# it 10 s on the ThreadSanitizer build). Run both ways: the shim, and
# kernel overlayfs, where the probe's own checks must hold too (but for
# one kernel quirk the probe counts apart: EEXIST from a copy-up that races
# a rename over the same name).

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/oracle

setup() {
	make_layers
	"$(probe stress_probe)" seed "$LOWER"
}

teardown() {
	unmount_union
}

stress() {
	local before
	before=$(snapshot "$LOWER")
	use_union "$1"
	# Only the oracle leg may meet kernel overlayfs's copy-up EEXIST (see
	# stress_probe.c); on the shim it stays a failure.
	local kernel=0
	[ "$1" = overlayfs ] && kernel=1
	STRESS_KERNEL_OVERLAYFS=$kernel run --separate-stderr "${RUN[@]}" "$(probe stress_probe)" run "$U" "${STRESS_SECS:-2.5}" 16
	echo "$output"
	[ -z "$stderr" ] || { echo "stderr: $stderr"; false; }
	[ "$status" -eq 0 ]
	[[ "${lines[-1]}" =~ ^stress:\ 16\ threads.*\ [1-9][0-9]*\ forks,\ [0-9]+\ ops,\ 0\ failures$ ]]
	unmount_union
	[ "$(snapshot "$LOWER")" = "$before" ]
}

@test "stress: 16 threads open, dup, dup2, close, stat, read, copy up, rename, unlink, list and fork at once; whole files only, lowers untouched (shim)" {
	stress shim
}

@test "stress: 16 threads open, dup, dup2, close, stat, read, copy up, rename, unlink, list and fork at once; whole files only, lowers untouched (overlayfs oracle)" {
	stress overlayfs
}
