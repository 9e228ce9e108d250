#!/usr/bin/env bats
# Promise (issue 10, "create at the floor"): a create of a new name costs
# the lookup that proves the name free in the union and the program's own
# calls, and no more: what the lookup learnt (the parent dir is in the
# upper; the upper holds neither the name nor a whiteout of it) is not
# asked of the layers again. A create over a whiteout still removes it,
# also when the name's absence was answered from a cache. Shim only: the
# counts are the shim's own.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/itest

N=20 # names created per run

setup() {
	command -v strace >/dev/null || skip "no strace"
	make_layers
	mkdir -p "$LOWER/d" "$UPPER/d" "$UPPER/u"
	echo below >"$LOWER/d/keep"
}

fail() {
	echo "$*" >&2
	return 1
}

# Create the names "$@" (paths in the union) in one process under strace
# (itself outside the union); the trace goes to $1.
create_all() {
	local t=$1
	shift
	strace -f -qq -o "$t" -E LD_PRELOAD="$SHIM_LIB" -E UNIONSHIM_MOUNTS="$(mounts_spec)" \
		"$(probe create_many)" "$@"
}

names() { for i in $(seq 1 $N); do echo "$TARGET/$1/n$i"; done; }

# Calls of trace $1 naming the real path $2 exactly.
naming() { grep -cF "\"$2\"" "$1" || true; }

# Stat-family calls of trace $1 naming the real path $2 exactly.
stats_of() { grep -cE "^[0-9]+ +(stat|lstat|newfstatat|statx)\((AT_FDCWD, )?\"$2\"" "$1" || true; }

# System calls per create in dir $1 of the union: a run making one name
# against one making that name and N more (the first name of a run pays
# the walk to the dir).
per_create() {
	local a=$ROOT/one.trace b=$ROOT/many.trace
	create_all "$a" "$TARGET/$1/first_w" # the work dir's state made
	create_all "$a" "$TARGET/$1/first_a"
	create_all "$b" "$TARGET/$1/first_b" $(names "$1")
	echo $(( ($(wc -l <"$b") - $(wc -l <"$a")) / N ))
}

@test "a create in a merged dir: 7 system calls (the lookup's 3, open, the dir's announcement, write, close), no stat asked twice" {
	local per
	per=$(per_create d)
	echo "system calls per create in a merged dir: $per" >&3
	for i in $(seq 1 $N); do cmp -s <(head -c 4096 /dev/zero | tr '\0' x) "$UPPER/d/n$i" ||
		fail "n$i: not written whole in the upper"; done
	local t=$ROOT/many.trace
	# the lookup stats the name and its whiteout once; nothing else does
	for i in 1 $N; do
		same 2 "$(naming "$t" "$UPPER/d/n$i")" # the stat, the open
		same 1 "$(naming "$t" "$UPPER/d/.wh.n$i")"
	done
	# the upper dir: once, by the walk to it for the run's first name
	[ "$(stats_of "$t" "$UPPER/d")" -le 1 ] || fail "$UPPER/d stat'ed $(stats_of "$t" "$UPPER/d") times"
	[ "$per" -le 7 ] || fail "$per system calls per create (at most 7)"
}

@test "a create in an upper-only dir: 6 system calls (one whiteout look, by the create)" {
	local per
	per=$(per_create u)
	echo "system calls per create in an upper-only dir: $per" >&3
	local t=$ROOT/many.trace
	for i in 1 $N; do
		same 2 "$(naming "$t" "$UPPER/u/n$i")"
		same 1 "$(naming "$t" "$UPPER/u/.wh.n$i")"
	done
	[ "$(stats_of "$t" "$UPPER/u")" -le 1 ] || fail "$UPPER/u stat'ed $(stats_of "$t" "$UPPER/u") times"
	[ "$per" -le 6 ] || fail "$per system calls per create (at most 6)"
}

# over_whiteouts DIR: lower files w1, w2 of d whited out in the upper (OCI
# and in-place form); a shell whose cwd is DIR stats d/w1, d/w2 and d/w3
# (so their absence is cached) and then makes each: the whiteouts go, the
# files are made in the upper, the lower keeps its own.
over_whiteouts() {
	echo gone1 >"$LOWER/d/w1"
	echo gone2 >"$LOWER/d/w2"
	: >"$UPPER/d/.wh.w1"
	mknod "$UPPER/d/w2" c 0 0
	run --separate-stderr in_union sh -c '
		cd "$1" || exit 9
		for n in w1 w2 w3; do
			[ ! -e "$2$n" ] || exit 1
			echo new >"$2$n" || exit 2
			[ "$(cat "$2$n")" = new ] || exit 3
		done
		ls "${2:-.}"' sh "$1" "${2:-}"
	[ "$status" -eq 0 ] || fail "status $status: $stderr"
	same "keep
w1
w2
w3" "$output"
	[ ! -e "$UPPER/d/.wh.w1" ] || fail ".wh.w1 left in the upper"
	[ -f "$UPPER/d/w1" ] && [ -f "$UPPER/d/w2" ] || fail "not made in the upper"
	same new "$(cat "$UPPER/d/w2")"
	same gone1 "$(cat "$LOWER/d/w1")"
}

@test "a create over a whiteout (OCI and in place) removes it, the name's absence answered by the caches or not" {
	over_whiteouts / "$TARGET/d/"
}

@test "a create over a whiteout by a name relative to the cwd (the lookup's last step alone) removes it too" {
	over_whiteouts "$TARGET/d" ""
}
