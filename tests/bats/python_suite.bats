#!/usr/bin/env bats
# Promise (semantics.md; the brief's "programs written by others"): a
# program sees in a union what it sees on kernel overlayfs. CPython's own
# regression tests of the file API (Debian's libpython3.11-testsuite),
# run with their cwd and TMPDIR in the union over a lower, pass and fail
# test for test as they do on an overlayfs mount of the same layers, and
# the lowers are never written. They found two defects no test of ours
# had: a vfork child's chdir moved its parent's cwd (test_shutil, through
# subprocess's cwd=), and a file its locker made excluded no one
# (test_sqlite3, which Debian's package leaves out: fresh_locks.bats
# holds that one).

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/oracle

PY=/usr/bin/python3

fail() {
	echo "$*" >&2
	return 1
}
TESTS=(test_shutil test_os test_pathlib test_tempfile test_glob test_fileinput test_posixpath)

setup() {
	$PY -c 'import test.support' ||
		fail "$PY with its test suite (libpython3.11-testsuite) is needed: run .ci/deps"
	make_layers
	mkdir -p "$LOWER/tmp" "$LOWER/data"
	chmod 1777 "$LOWER/tmp"
	echo lower >"$LOWER/data/f"
	BEFORE=$(snapshot "$ROOT/lower"; snapshot "$ROOT/lower2")
}

teardown() {
	unmount_union
}

# suite: each test's id and outcome (ok, FAIL, ERROR, skipped, ...) in
# the union use_union set up, sorted; the run's own temp names and skip
# reasons left out.
suite() {
	"${RUN[@]}" env TMPDIR="$U/tmp" sh -c 'cd "$1" && shift && exec "$@"' sh "$U" \
		timeout 600 $PY -m test -v -j1 --timeout 300 "${TESTS[@]}" 2>&1 |
		sed -n -E 's/^(test[^ ]* \([^)]*\)) \.\.\. (ok|FAIL|ERROR|skipped|expected failure|unexpected success).*/\1 \2/p' |
		LC_ALL=C sort
}

@test "CPython's file-API tests (shutil, os, pathlib, tempfile, glob, fileinput, posixpath) pass and fail alike in a union and on kernel overlayfs" {
	use_union overlayfs
	mountpoint -q "$U" || fail "overlayfs is not mounted at $U"
	ovl=$(suite)
	unmount_union
	! mountpoint -q "$U" || fail "overlayfs is still mounted at $U"
	use_union shim
	shim=$(suite)
	[ "$(wc -l <<<"$ovl")" -gt 1000 ] || fail "overlayfs: too few results: $(wc -l <<<"$ovl")"
	expect "every test has the outcome it has on overlayfs" "$ovl" "$shim"
	expect "the lowers are never written" "$BEFORE" "$(snapshot "$ROOT/lower"; snapshot "$ROOT/lower2")"
	if [ ${#BROKEN[@]} -ne 0 ]; then
		diff <(echo "$ovl") <(echo "$shim") | head -40
	fi
	verdict
}
