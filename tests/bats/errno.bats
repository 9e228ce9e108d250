#!/usr/bin/env bats
# Promise (style.md "errno is part of the interface"): a successful call
# leaves errno as it found it, as natively: no ENOENT from probing another
# layer, no ENODATA from reading the shim's xattrs, none from readdir at
# the end of a merged dir (CMake: `errno = 0; opendir; readdir...; if
# (errno)`), none in a program exec'd in the union before its main.
# tests/probes/errno_probe.c calls every function of shim/wrapfuncs.def
# (WRAP and OWN) on union objects that take the shim's work paths; the
# same probe runs on kernel overlayfs, where libc alone answers.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/itest
load ../lib/oracle

setup() {
	make_layers
	tool_layers
	local i
	mkdir -p "$LOWER2/cu" "$LOWER2/cud" "$LOWER2/bin" "$LOWER/lib"
	for i in $(seq 1 120); do
		printf 'line one of f%s\nline two\n' "$i" >"$LOWER2/cu/f$i"
		setfattr -n user.probe -v "$i" "$LOWER2/cu/f$i"
		ln -s "f$i" "$LOWER2/cu/l$i"
		mkdir "$LOWER2/cud/e$i"
		echo "hidden $i" >"$LOWER2/w$i"
		mknod "$LOWER/w$i" c 0 0 # the form both read
	done
	setfattr -n user.probe -v sub "$LOWER/dir/sub"
	ln -s nowhere "$LOWER/dangling"
	cp "$(probe errno_probe)" "$LOWER2/bin/errno_probe"
	printf 'const char *probe(void) { return "lib"; }\n' >"$BATS_TEST_TMPDIR/lib.c"
	cc -shared -fPIC -o "$LOWER/lib/libprobe.so" "$BATS_TEST_TMPDIR/lib.c"
}

teardown() {
	unmount_union
}

# The WRAP and OWN names of the table.
table_names() {
	sed -n 's/^WRAP([^,]*, *\([A-Za-z0-9_]*\),.*/\1/p; s/^OWN(\([A-Za-z0-9_]*\))$/\1/p' \
		"$BATS_TEST_DIRNAME/../../shim/wrapfuncs.def" | LC_ALL=C sort -u
}

# run_probe shim|overlayfs [ALLOWED]: the probe's lines other than "ok"
# and the lines of ALLOWED (a grep -E pattern) fail the test.
run_probe() {
	use_union "$1"
	run --separate-stderr "${RUN[@]}" "$(probe errno_probe)" "$U"
	[ "$status" -eq 0 ] || { echo "status $status: $stderr"; echo "$output"; return 1; }
	local bad
	bad=$(grep -Ev '^(ok|refused) ' <<<"$output" | grep -Ev "${2:-^$}" || true)
	if [ -n "$bad" ]; then
		echo "$bad"
		return 1
	fi
}

@test "errno: every wrapped function that succeeds in a union leaves errno alone" {
	run_probe shim
	# every name of the table was checked: a new wrapper needs a case
	local missing
	missing=$(LC_ALL=C comm -23 <(table_names) \
		<(awk '$1 == "ok" || $1 == "refused" { print $2 }' <<<"$output" | LC_ALL=C sort -u))
	[ -z "$missing" ] || { echo "no errno check in errno_probe for:"; echo "$missing"; return 1; }
	[ "$(table_names | wc -l)" -gt 200 ]
}

# The oracle for the probe itself: natively every case succeeds and keeps
# errno, but where glibc itself changes it on success (realpath's readlink
# of every component, remove trying unlink on a dir, posix_spawn's child
# setup, posix_spawnp's PATH search, ftw/nftw meeting a dangling symlink,
# glob's probes, fts_read after a dangling symlink) or overlayfs lacks the
# call (file handles without nfs_export). The shim keeps errno there too.
native_leaks() {
	local l=(
		'BAD (realpath|__realpath_chk|canonicalize_file_name) [a-z]* errno=EINVAL'
		'BAD remove lower2_dir errno=EISDIR'
		'BAD posix_spawn lower2 errno=EBADF'
		'BAD posix_spawnp path_search errno=ENOENT'
		'BAD n?ftw dangling errno=ENOENT'
		'BAD glob (notdirs|mark) errno=ENOENT'
		'BAD fts_read logical_next errno=0'
		'FAIL name_to_handle_at lower2 EOPNOTSUPP'
		'FAIL open_by_handle_at lower2 EOPNOTSUPP'
	)
	local IFS='|'
	echo "^(${l[*]})\$"
}

@test "errno: the same probe on kernel overlayfs (libc's own behaviour)" {
	run_probe overlayfs "$(native_leaks)"
}

