#!/usr/bin/env bats
# Promise (semantics.md "Lookup"): real tools, run under the shim, see the
# union at the target: merged listings, upper wins, whiteouts (both forms)
# and opaque dirs (both forms) hide what is below, symlinks (relative and
# absolute) resolve inside the union, relative paths and the cwd live in
# the union's namespace. The target is an empty dir, so a tool that slips
# past the shim sees nothing. The stack is described in tests/lib/itest.bash.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/itest

setup() {
	make_layers
	tool_layers
}

@test "ls -1a lists the merged root: upper, lowers, no whiteouts or opaque-hidden names" {
	run --separate-stderr in_union ls -1a "$TARGET"
	[ "$status" -eq 0 ]
	same "$(printf '%s\n' . .. abs_link both dir emptyd kind l2_only low_only \
		opq opq2 rel_link up_only)" "$output"
	[ -z "$stderr" ]
	run --separate-stderr in_union ls -1a "$TARGET/dir" "$TARGET/dir/sub" "$TARGET/opq" "$TARGET/opq2"
	[ "$status" -eq 0 ]
	same "$TARGET/dir:
.
..
a
b
c
sub

$TARGET/dir/sub:
.
..
a1
b1

$TARGET/opq:
.
..
new

$TARGET/opq2:
.
..
new" "$output"
}

@test "ls -la shows each name with the type of the layer that wins" {
	run --separate-stderr in_union ls -la --time-style=+T "$TARGET"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	same "d .
d ..
l abs_link -> $TARGET/l2_only
- both
d dir
d emptyd
d kind
- l2_only
- low_only
d opq
d opq2
l rel_link -> dir/sub/b1
- up_only" "$(awk 'NR > 1 { l = substr($1, 1, 1) " " $7; if (NF > 7) l = l " " $8 " " $9; print l }' <<<"$output")"
	# sizes are the winning layer's
	run --separate-stderr in_union ls -la --time-style=+T "$TARGET/both" "$TARGET/kind"
	same "-rw-r--r-- 11 $TARGET/both" "$(awk 'NR == 1 { print $1, $5, $7 }' <<<"$output")"
}

@test "find walks the union (and only the union)" {
	run --separate-stderr in_union find "$TARGET"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	same "$(expect_find)" "$(sed "s#^$TARGET#.#" <<<"$output" | LC_ALL=C sort)"
	run --separate-stderr in_union find "$TARGET" -type l
	same "$TARGET/abs_link
$TARGET/rel_link" "$(LC_ALL=C sort <<<"$output")"
	run --separate-stderr in_union find "$TARGET" -name 'gone*'
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# without the shim the target is just an empty dir
	run find "$TARGET"
	same "$TARGET" "$output"
}

@test "cat reads the winning layer; whited-out names do not exist" {
	run --separate-stderr in_union cat "$TARGET/both" "$TARGET/low_only" \
		"$TARGET/l2_only" "$TARGET/up_only" "$TARGET/dir/a" \
		"$TARGET/dir/sub/b1" "$TARGET/kind/inner" "$TARGET/opq/new"
	[ "$status" -eq 0 ]
	same "upper both
lower only
lower2 only
upper only
dir a
sub b1
kind inner
opq new" "$output"
	local n
	for n in gone_oci gone_ovl gonedir/deep/f opq/old1 opq/sub/old2 opq2/old .wh.gone_oci .wh.gonedir opq/.wh..wh..opq; do
		run --separate-stderr in_union cat "$TARGET/$n"
		[ "$status" -eq 1 ]
		same "cat: $TARGET/$n: No such file or directory" "$stderr"
	done
	run --separate-stderr in_union cat "$TARGET/kind"
	same "cat: $TARGET/kind: Is a directory" "$stderr"
}

@test "cat follows relative and absolute symlinks inside the union" {
	run --separate-stderr in_union cat "$TARGET/rel_link" "$TARGET/abs_link"
	[ "$status" -eq 0 ]
	same "sub b1
lower2 only" "$output"
}

@test "stat -c reports type and size of the winning layer" {
	run --separate-stderr in_union stat -c '%n|%F|%s|%N' "$TARGET/both" \
		"$TARGET/kind" "$TARGET/l2_only" "$TARGET/rel_link" "$TARGET/dir/sub"
	[ "$status" -eq 0 ]
	same "$TARGET/both|regular file|11|'$TARGET/both'
$TARGET/kind|directory|4096|'$TARGET/kind'
$TARGET/l2_only|regular file|12|'$TARGET/l2_only'
$TARGET/rel_link|symbolic link|10|'$TARGET/rel_link' -> 'dir/sub/b1'
$TARGET/dir/sub|directory|4096|'$TARGET/dir/sub'" "$output"
	run --separate-stderr in_union stat -L -c '%n|%F|%s' "$TARGET/rel_link" "$TARGET/abs_link"
	same "$TARGET/rel_link|regular file|7
$TARGET/abs_link|regular file|12" "$output"
	run --separate-stderr in_union stat -c %F "$TARGET/gone_ovl"
	[ "$status" -eq 1 ]
	same "stat: cannot statx '$TARGET/gone_ovl': No such file or directory" "$stderr"
}

@test "du -a names every union object" {
	run --separate-stderr in_union du -a "$TARGET"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	same "$(expect_find)" "$(cut -f2 <<<"$output" | sed "s#^$TARGET#.#" | LC_ALL=C sort)"
}

@test "grep -r reads every union file and nothing hidden" {
	run --separate-stderr in_union grep -r . "$TARGET"
	[ "$status" -eq 0 ]
	same "$TARGET/both:upper both
$TARGET/dir/a:dir a
$TARGET/dir/b:dir b
$TARGET/dir/c:dir c
$TARGET/dir/sub/a1:sub a1
$TARGET/dir/sub/b1:sub b1
$TARGET/kind/inner:kind inner
$TARGET/l2_only:lower2 only
$TARGET/low_only:lower only
$TARGET/opq/new:opq new
$TARGET/opq2/new:opq2 new
$TARGET/up_only:upper only" "$(LC_ALL=C sort <<<"$output")"
	run --separate-stderr in_union grep -rl gone "$TARGET"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
}

@test "tar -c archives the union" {
	run --separate-stderr in_union tar -cf "$BATS_TEST_TMPDIR/u.tar" -C "$TARGET" .
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	run tar -tf "$BATS_TEST_TMPDIR/u.tar"
	[ "$status" -eq 0 ]
	same "$(expect_find)" "$(sed 's#/$##; s#^$#.#' <<<"$output" | LC_ALL=C sort)"
	mkdir "$BATS_TEST_TMPDIR/x" "$BATS_TEST_TMPDIR/exp"
	tar -xf "$BATS_TEST_TMPDIR/u.tar" -C "$BATS_TEST_TMPDIR/x"
	expect_tree "$BATS_TEST_TMPDIR/exp"
	run diff -r --no-dereference "$BATS_TEST_TMPDIR/exp" "$BATS_TEST_TMPDIR/x"
	[ "$status" -eq 0 ]
}

@test "diff -r of the union against the same tree built by hand is empty" {
	expect_tree "$BATS_TEST_TMPDIR/exp"
	run in_union diff -r --no-dereference "$BATS_TEST_TMPDIR/exp" "$TARGET"
	same "" "$output"
	[ "$status" -eq 0 ]
	# following symlinks: rel_link and abs_link resolve inside the union
	# (exp's own abs_link must not point into the target: a link from
	# outside into the target is the kernel's, see the README)
	ln -sfn "$BATS_TEST_TMPDIR/exp/l2_only" "$BATS_TEST_TMPDIR/exp/abs_link"
	run in_union diff -r "$BATS_TEST_TMPDIR/exp" "$TARGET"
	same "" "$output"
	[ "$status" -eq 0 ]
	# and it does see a difference when there is one
	echo changed >"$BATS_TEST_TMPDIR/exp/dir/sub/b1"
	run in_union diff -rq "$BATS_TEST_TMPDIR/exp" "$TARGET"
	[ "$status" -eq 1 ]
	same "Files $BATS_TEST_TMPDIR/exp/dir/sub/b1 and $TARGET/dir/sub/b1 differ
Files $BATS_TEST_TMPDIR/exp/rel_link and $TARGET/rel_link differ" "$output"
}

@test "cd into a union dir: pwd, /bin/pwd and relative paths" {
	run --separate-stderr in_union bash -c 'cd "$1/dir/sub" && pwd && /bin/pwd && ls && cat ../a b1 && cd ../.. && /bin/pwd && cat rel_link' _ "$TARGET"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	same "$TARGET/dir/sub
$TARGET/dir/sub
a1
b1
dir a
sub b1
$TARGET
sub b1" "$output"
	# ".." at the target root leaves the union
	run --separate-stderr in_union bash -c 'cd "$1" && cd .. && /bin/pwd && ls -d target' _ "$TARGET"
	[ "$status" -eq 0 ]
	same "$(dirname "$TARGET")
target" "$output"
	# a dir only a lower layer has
	run --separate-stderr in_union bash -c 'cd "$1/emptyd" && /bin/pwd' _ "$TARGET"
	same "$TARGET/emptyd" "$output"
}

@test "readlink and readlink -f of union symlinks" {
	run --separate-stderr in_union readlink "$TARGET/rel_link" "$TARGET/abs_link"
	[ "$status" -eq 0 ]
	same "dir/sub/b1
$TARGET/l2_only" "$output"
	run --separate-stderr in_union readlink -f "$TARGET/rel_link" "$TARGET/abs_link" "$TARGET/dir/sub/../../kind/inner"
	[ "$status" -eq 0 ]
	same "$TARGET/dir/sub/b1
$TARGET/l2_only
$TARGET/kind/inner" "$output"
	run --separate-stderr in_union readlink -e "$TARGET/gone_oci"
	[ "$status" -eq 1 ]
}

@test "realpath canonicalises inside the union" {
	run --separate-stderr in_union realpath "$TARGET/rel_link" "$TARGET/dir/sub/../a" "$TARGET/opq/./new" "$TARGET/abs_link"
	[ "$status" -eq 0 ]
	same "$TARGET/dir/sub/b1
$TARGET/dir/a
$TARGET/opq/new
$TARGET/l2_only" "$output"
	run --separate-stderr in_union realpath -e "$TARGET/opq/old1"
	[ "$status" -eq 1 ]
	run --separate-stderr in_union bash -c 'cd "$1/dir" && realpath sub/b1 ../rel_link' _ "$TARGET"
	same "$TARGET/dir/sub/b1
$TARGET/dir/sub/b1" "$output"
}

@test "in place: the target is the top lower dir itself" {
	TARGET=$LOWER
	before=$(layer_state)
	run --separate-stderr in_union ls -1a "$LOWER"
	[ "$status" -eq 0 ]
	same "$(printf '%s\n' . .. abs_link both dir emptyd kind l2_only low_only \
		opq opq2 rel_link up_only)" "$output"
	run --separate-stderr in_union find "$LOWER"
	same "$(expect_find)" "$(sed "s#^$LOWER#.#" <<<"$output" | LC_ALL=C sort)"
	run --separate-stderr in_union cat "$LOWER/both" "$LOWER/dir/sub/b1" "$LOWER/rel_link"
	same "upper both
sub b1
sub b1" "$output"
	run --separate-stderr in_union cat "$LOWER/gone_ovl"
	[ "$status" -eq 1 ]
	run --separate-stderr in_union bash -c 'cd "$1/dir" && /bin/pwd && ls' _ "$LOWER"
	same "$LOWER/dir
a
b
c
sub" "$output"
	# the lower itself, read by a process without the shim, is untouched
	same "$before" "$(layer_state)"
}
