#!/usr/bin/env bats
# Start-up cost: a program exec'd by a union process adopts the resolved
# configuration its parent hands down (UNIONSHIM_RESOLVED) instead of
# resolving every layer path again, in the preload library and in the
# loader's audit module alike; a record that no longer matches the dirs is
# detected and the configuration validated in full.

bats_require_minimum_version 1.5.0

load ../lib/common

setup() {
	command -v strace >/dev/null || skip "strace is not installed"
	make_layers
	echo lower > "$LOWER/f"
	echo lower2 > "$LOWER2/g"
}

# The system calls of the last program SH -c CMD execs, in the union.
child_calls() {
	local log=$BATS_TEST_TMPDIR/strace.log
	in_union env LD_AUDIT="$UNIONSHIM_BUILD/libunionshim-audit.so" \
		strace -f -qq -o "$log" sh -c "$1" >/dev/null
	sed -n '/execve.*"\/bin\/cat"/,$p' "$log"
}

@test "an exec'd program does not redo the realpath and opacity work" {
	calls=$(child_calls "exec /bin/cat $TARGET/f")
	[[ "$calls" == *"openat(AT_FDCWD, \"$LOWER/f\""* ]] # it ran, in the union
	# no component-by-component realpath of the layers, no opacity probe
	run grep -cE 'readlink\("'"$ROOT"'|llistxattr|lgetxattr\("'"$ROOT"'|\.wh\.\.wh\.\.opq' <<<"$calls"
	[ "$output" = 0 ]
	# one stat of each dir, by the preload library; the audit module reads
	# the record's paths as text and stats nothing while no library ld.so
	# looks for lies in the union
	[ "$(grep -c 'stat.*"'"$UPPER"'"' <<<"$calls")" -eq 1 ]
}

# The system calls of the process that execs /bin/true from a shell whose
# cwd is DIR (a union dir, or the same dir's real path natively), from
# its execve to its exit.
true_calls() {
	local log=$BATS_TEST_TMPDIR/true.log pid
	"${@:2}" strace -f -qq -o "$log" sh -c "cd $1 && exec /bin/true" >/dev/null
	local exec='execve(at)?\((AT_FDCWD, )?"/bin/true"'
	pid=$(grep -m1 -E "$exec" "$log" | cut -d' ' -f1)
	awk -v p="$pid" '$1 == p' "$log" | sed -En "\\#$exec#,\$p" |
		grep -v 'resumed>'
}

# What an exec'd child pays before main, over native: ld.so mapping the
# preload library and the audit module, the record's one stat per dir,
# the pid page and a getcwd. Not: a scan of the work dir (done by the
# process that started without a record, and before a first copy-up), a
# lookup of the inherited cwd and the caches that maps, the audit
# module's own stats of the dirs, the #state mapping (its parent made it:
# mapped at the first call that needs it), the scratch region (the
# constructor has buffers of its own), a futex wake of a once. (35 here:
# ld.so's mapping of the two libraries is most of what is left.)
@test "an exec'd child pays at most 37 system calls more than natively before main" {
	mkdir -p "$LOWER/sub"
	native=$(true_calls "$LOWER/sub" env | wc -l)
	calls=$(true_calls "$TARGET/sub" in_union env \
		LD_AUDIT="$UNIONSHIM_BUILD/libunionshim-audit.so")
	[[ "$calls" == *'exit_group(0)'* ]]
	echo "native $native, in the union $(wc -l <<<"$calls")" >&3
	run grep -E "getdents|\"$WORK\".*O_DIRECTORY|statx|\.wh\.|stat.*\"$LOWER/sub\"" <<<"$calls"
	[ -z "$output" ]
	[ "$(grep -c 'stat.*"'"$LOWER2"'"' <<<"$calls")" -eq 1 ]
	run grep -E '#state|futex|mmap\(NULL, 4194304' <<<"$calls"
	[ -z "$output" ]
	(($(wc -l <<<"$calls") <= native + 37))
}

# The same child maps #state at its first call that needs it (a copy-up
# bumps a generation there), and its copy-up is seen by the caches of the
# process that started it.
@test "an exec'd child maps #state for its first copy-up" {
	command -v python3 >/dev/null || skip "no python3"
	mkdir -p "$LOWER/sub"
	echo old >"$LOWER/sub/f"
	log=$BATS_TEST_TMPDIR/w.log
	# both sh adopted strace's record: the first never maps it, the one
	# it execs maps it once, at its copy-up
	in_union strace -f -qq -e trace=openat -o "$log" \
		sh -c "exec sh -c 'echo new >$TARGET/sub/f'"
	[ "$(grep -c '"'"$WORK"'/#state"' "$log")" -eq 1 ]
	run in_union python3 -c '
import os, sys
f = sys.argv[1]
for _ in range(3):
    os.stat(f); open(f).read()
os.system("echo newer >" + f)
print(os.stat(f).st_size, open(f).read().strip())
' "$TARGET/sub/f"
	[ "$status" -eq 0 ]
	[ "$output" = "6 newer" ]
}

# A process that adopted its parent's record scans the work dir for a dead
# copier's temps before its own first copy-up, not at startup.
@test "leftovers of a dead copier go before an adopted child's first copy-up" {
	echo data > "$LOWER/c"
	rec=$(in_union sh -c 'exec printenv UNIONSHIM_RESOLVED')
	mkdir "$WORK/#us.999999999.1" # pid_max is lower: its process is gone
	adopted() {
		env LD_PRELOAD="$SHIM_LIB" UNIONSHIM_MOUNTS="$(mounts_spec)" \
			UNIONSHIM_RESOLVED="$rec" "$@"
	}
	[ "$(adopted cat "$TARGET/c")" = data ]
	[ -d "$WORK/#us.999999999.1" ] # a reader does not scan the work dir
	adopted sh -c "echo more >> $TARGET/c"
	[ ! -e "$WORK/#us.999999999.1" ]
	[ "$(cat "$UPPER/c")" = "$(printf 'data\nmore')" ]
	# a process started without a record cleans at startup
	mkdir "$WORK/#us.999999999.2"
	in_union /bin/true
	[ ! -e "$WORK/#us.999999999.2" ]
}

@test "a record that no longer matches its dirs is detected" {
	rec=$(in_union sh -c 'exec printenv UNIONSHIM_RESOLVED')
	spec=$(in_union sh -c 'exec printenv UNIONSHIM_MOUNTS')
	[ -n "$rec" ]
	# the upper replaced by a new dir whose root is opaque
	mv "$UPPER" "$ROOT/upper.old"
	mkdir "$UPPER"
	touch "$UPPER/.wh..wh..opq"
	run env LD_PRELOAD="$SHIM_LIB" UNIONSHIM_MOUNTS="$spec" \
		UNIONSHIM_RESOLVED="$rec" ls "$TARGET"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "a record for other dirs or garbage changes nothing" {
	for rec in garbage "0;1,1.1" "$(printf 'x%.0s' {1..300})"; do
		run env LD_PRELOAD="$SHIM_LIB" UNIONSHIM_MOUNTS="$(mounts_spec)" \
			UNIONSHIM_RESOLVED="$rec" cat "$TARGET/f" "$TARGET/g"
		[ "$status" -eq 0 ]
		[ "$output" = "$(printf 'lower\nlower2')" ]
	done
}

@test "a program's own mounts for its child are not given our record" {
	mkdir -p "$ROOT/other" "$ROOT/t2"
	echo other > "$ROOT/other/h"
	run in_union env UNIONSHIM_MOUNTS="target=$ROOT/t2,lowerdir=$ROOT/other" \
		sh -c 'echo "${UNIONSHIM_RESOLVED:-none}"; cat '"$ROOT/t2/h"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'none\nother')" ]
}

# The program's path is read (for backtraces) only when tracing.
@test "start-up reads /proc/self/exe only when tracing" {
	calls=$(child_calls "exec /bin/cat $TARGET/f")
	[[ "$calls" == *"openat(AT_FDCWD, \"$LOWER/f\""* ]]
	run grep -c 'readlink("/proc/self/exe"' <<<"$calls"
	[ "$output" = 0 ]
	calls=$(UNIONSHIM_TRACE=1 child_calls "exec /bin/cat $TARGET/f")
	[[ "$calls" == *'readlink("/proc/self/exe"'* ]]
}

# The real functions behind the wrappers are read from the symbol tables
# on first use: the constructor asks ld.so (dlsym) for no name, not even
# for the ones libc lacks (io_uring_*, which failed dlsym, an error
# message built each time, in every process).
@test "the constructor looks up no real function through dlsym" {
	run --separate-stderr in_union env LD_DEBUG=symbols /bin/true
	[ "$status" -eq 0 ]
	init=$(sed -n '/calling init: .*libunionshim\.so/,/initialize program/p' <<<"$stderr")
	[[ "$init" == *"calling init:"* ]]
	# a wrapped name looked up there is dlsym's (the library never calls
	# one through its PLT: shim/names.h)
	names=$(sed -n -E 's/^(WRAP|REAL)\([^,]*, *([a-z0-9_]+),.*/\2/p' \
		"$BATS_TEST_DIRNAME/../../shim/wrapfuncs.def")
	[ "$(wc -l <<<"$names")" -gt 100 ]
	run grep -c -E "symbol lookup error|symbol=($(paste -sd'|' <<<"$names"));" <<<"$init"
	[ "$output" = 0 ]
}

# The preload library's libc imports are bound on first call, not all at
# load: a symbol lookup each, in every process, was a sixth of an exec.
# The string and memory functions every lookup calls are bound at the start
# of a process with a union, on the main thread's stack (prebind.c: their
# lazy binding on a small thread's stack overflowed it); the allocator and
# the system-call wrappers are not.
@test "the preload library binds its libc imports lazily, all but the lookup's string functions" {
	imports=$(readelf -r "$UNIONSHIM_BUILD/libunionshim.so" | grep -c -E "_JUMP_SL")
	[ "$imports" -gt 40 ]
	run --separate-stderr in_union env LD_DEBUG=bindings /bin/true
	[ "$status" -eq 0 ]
	bound=$(grep -o "binding file [^ ]*libunionshim\.so .*normal symbol .[a-z_0-9]*" <<<"$stderr" |
		sed 's/.*symbol .//' | sort -u)
	echo "bound: $(echo $bound)"
	for f in memmove memchr memcmp strspn strcspn strstr; do
		grep -qx "$f" <<<"$bound"
	done
	for f in malloc calloc realloc strdup pipe2 waitpid fdopen pthread_sigmask mincore; do
		! grep -qx "$f" <<<"$bound"
	done
	[ $(($(wc -l <<<"$bound") * 10)) -lt $((imports * 7)) ]
}

# Peak RSS: the shim (preload library, audit library, their start-up)
# adds less than 1 MiB to a small program's: cat's own VmHWM, read as it
# runs (an outside measure, ru_maxrss, would count the parent's pages its
# fork copied), the median of 5 runs each.
peak_rss() {
	for _ in 1 2 3 4 5; do
		"$@" cat /proc/self/status | awk '$1 == "VmHWM:" { print $2 }'
	done | sort -n | sed -n 3p
}

@test "the shim adds less than 1 MiB to a program's peak RSS" {
	[ -z "$SAN_RT" ] || skip "a sanitizer build's runtime is large by design"
	native=$(peak_rss env)
	shim=$(peak_rss in_union env LD_AUDIT="$UNIONSHIM_BUILD/libunionshim-audit.so")
	echo "native $native KiB, shim $shim KiB" >&3
	[ "$native" -gt 0 ] && [ "$shim" -gt "$native" ]
	[ $((shim - native)) -lt 1024 ]
}

# A tree walker's peak RSS: the lookup and whole-path caches grow only
# when names come back after being pushed out, so a walker that asks each
# of 3,200 names once (find) stays within 1 MiB of native as well: find's
# own VmHWM, read by a child of find after the walk (-depth: the root is
# the last entry), against the same walk of a plain copy; median of 3.
walk_peak_rss() {
	local root=$1; shift
	for _ in 1 2 3; do
		"$@" find "$root" -depth \( -path "$root" \
			-exec sh -c 'grep VmHWM /proc/$PPID/status' \; \) \
			-o -printf '%p %s %m\n' | awk '$1 == "VmHWM:" { print $2 }'
	done | sort -n | sed -n 2p
}

@test "a tree walker's peak RSS grows by less than 1 MiB" {
	[ -z "$SAN_RT" ] || skip "a sanitizer build's runtime is large by design"
	for l in "$LOWER" "$LOWER2" "$UPPER"; do
		mkdir -p "$l"/tree/d{00..39}
	done
	(cd "$LOWER/tree" && touch d{00..39}/low{000..39}.c)
	(cd "$LOWER2/tree" && touch d{00..39}/mid{000..19}.h d{00..39}/low{000..09}.c)
	(cd "$UPPER/tree" && touch d{00..39}/up{000..19}.o)
	mkdir "$ROOT/plain"
	in_union cp -a "$TARGET/tree" "$ROOT/plain/"
	[ "$(find "$ROOT/plain/tree" -type f | wc -l)" -eq 3200 ]
	native=$(walk_peak_rss "$ROOT/plain/tree" env)
	shim=$(walk_peak_rss "$TARGET/tree" in_union env \
		LD_AUDIT="$UNIONSHIM_BUILD/libunionshim-audit.so")
	echo "native $native KiB, shim $shim KiB" >&3
	[ "$native" -gt 0 ] && [ "$shim" -gt "$native" ]
	[ $((shim - native)) -lt 1024 ]
}

# The caches' memory is bounded: both at their full size (a program whose
# names keep coming back, rss_probe's warm-up) the shim still adds less
# than 1 MiB to the peak RSS (medians of 3), and a million calls more
# (8,000 names cycled, a new missing name each round, opens) leave it
# flat.
@test "full caches stay within 1 MiB, and a million calls leave the peak RSS flat" {
	[ -z "$SAN_RT" ] || skip "a sanitizer build's runtime is large by design"
	mkdir -p "$LOWER/d"
	(cd "$LOWER/d" && touch f{0..7999})
	warm() {
		for _ in 1 2 3; do
			"$@" 8000 0 | awk '$1 == "hwm1" { print $2 }'
		done | sort -n | sed -n 2p
	}
	native=$(warm "$(probe rss_probe)" "$LOWER/d")
	shim=$(warm in_union "$(probe rss_probe)" "$TARGET/d")
	echo "caches full: native $native KiB, shim $shim KiB" >&3
	[ "$native" -gt 0 ] && [ "$shim" -gt "$native" ]
	[ $((shim - native)) -lt 1024 ]
	run in_union "$(probe rss_probe)" "$TARGET/d" 8000 500000
	[ "$status" -eq 0 ]
	h1=$(awk '$1 == "hwm1" { print $2 }' <<<"$output")
	h2=$(awk '$1 == "hwm2" { print $2 }' <<<"$output")
	echo "after 1.06 M calls: $h1 -> $h2 KiB" >&3
	[ "$h1" -gt 0 ] && [ $((h2 - h1)) -lt 128 ]
}

# unionrun's stage one validates the configuration; stage two (the same
# program again, under the shim) adopts its record instead of resolving
# every layer path again, in the preload library and in the audit module:
# the opacity probes of the layer roots and the realpath walks are stage
# one's alone. Stage one also makes #state and cleans the work dir, as a
# process without a record does at startup.
@test "unionrun's second stage adopts the first stage's record" {
	log=$BATS_TEST_TMPDIR/ur.log
	mkdir "$WORK/#us.999999999.1" # a dead copier's
	strace -f -qq -o "$log" "$UNIONRUN" --lower "$LOWER" --lower "$LOWER2" \
		--upper "$UPPER" --work "$WORK" --at "$TARGET" -- /bin/true
	[ "$(grep -c 'llistxattr("'"$UPPER"'"' "$log")" -eq 1 ]
	stage2=$(sed -n '/execve("\/proc\/self\/exe"/,$p' "$log")
	[ -n "$stage2" ]
	run grep -E 'readlink|O_PATH|llistxattr|getdents' <<<"$stage2"
	[ -z "$output" ]
	[ ! -e "$WORK/#us.999999999.1" ]
	[ -s "$WORK/#state" ]
	[ "$(in_union cat "$TARGET/f")" = lower ]
}
