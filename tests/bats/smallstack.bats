#!/usr/bin/env bats
# Promise (style.md rule 13, issue 9 "Stack"): every entry point of the
# library runs in a small stack. A thread with a 32 KiB stack (a runtime's
# thread) can make every family of union calls, copy-up and exec included;
# so does one with PTHREAD_STACK_MIN (16 KiB, its TLS included), the calls
# on files and names (the link index's too) also below 3 KiB of its own; a
# signal handler on a 16 KiB sigaltstack can use union paths while its
# thread is inside the shim; the per-thread scratch memory that holds the
# shim's big buffers goes with its thread (10,000 threads leave no
# mapping behind). tests/probes/smallstack_probe.c does the work; its
# answers are checked against kernel overlayfs too.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/oracle

setup() {
	make_layers
	echo data >"$LOWER/f"
	mkdir -p "$LOWER/deep/1/2/3/4/5/6/7/8" "$LOWER/m" "$LOWER2/m" "$UPPER/m"
	echo deep >"$LOWER/deep/1/2/3/4/5/6/7/8/file"
	echo w >"$LOWER/w"
	setfattr -n user.a -v A "$LOWER/w"
	setfattr -n user.b -v B "$LOWER/w"
	echo gone >"$LOWER/gone"
	echo u >"$UPPER/m/u"
	echo l >"$LOWER/m/l"
	echo l2 >"$LOWER2/m/l2"
	ln -s f "$LOWER/lnk"
	echo h >"$LOWER/h1"
	ln "$LOWER/h1" "$LOWER/h2"
	BEFORE=$(snapshot "$ROOT/lower"; snapshot "$ROOT/lower2")
}

teardown() {
	unmount_union
}

# ops_in_small_thread shim|overlayfs KIB [USED]
ops_in_small_thread() {
	use_union "$1"
	run "${RUN[@]}" timeout 120 "$(probe smallstack_probe)" ops "$U" "$2" "${3:-0}"
	expect "every operation in a $2 KiB thread below ${3:-0} KiB of its own ($1): no crash, right answers" \
		"0 done 28 failed 0" "$status $(tail -n 1 <<<"$output")"
	expect "the lowers are never written ($1)" "$BEFORE" \
		"$(snapshot "$ROOT/lower"; snapshot "$ROOT/lower2")"
	[ ${#BROKEN[@]} -eq 0 ] || echo "$output"
	verdict
}

@test "32 KiB thread: stat, open, copy-up with xattrs, create, mkdir, rename, whiteout, readdir, getdents64, chdir, realpath, links, xattrs, spawn, fork+exec, popen, system (shim)" {
	ops_in_small_thread shim 32
}

@test "32 KiB thread: the same operations give the same answers on kernel overlayfs" {
	ops_in_small_thread overlayfs 32
}

@test "16 KiB thread (PTHREAD_STACK_MIN): the same operations under the shim" {
	ops_in_small_thread shim 16
}

# (3 KiB of the program's own. The library's string and memory imports
# are bound at its start (shim/prebind.c): bound lazily at their first use
# in this thread, ld.so's resolver saved the vector registers on the stack
# too, 2.7 KiB where AVX-512 is in use, and this overflowed there. On such
# a machine the same thread survives 5 KiB of its own natively, 3 under
# the shim.)
@test "16 KiB thread whose own frames hold 3 KiB: the calls on files and names under the shim" {
	ops_in_small_thread shim 16 3
}

@test "signal handler on a 16 KiB sigaltstack using union paths while the thread is inside the shim" {
	run timeout 60 env LD_PRELOAD="$SHIM_LIB" UNIONSHIM_MOUNTS="$(mounts_spec)" \
		"$(probe smallstack_probe)" signal "$TARGET" 3
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output =~ ^main\ ([0-9]+)\ bad\ 0\ handler\ ([0-9]+)\ bad\ 0$ ]]
	[ "${BASH_REMATCH[1]}" -ge 100 ]
	[ "${BASH_REMATCH[2]}" -ge 100 ]
}

@test "vfork children that exec leave their parent's scratch as it was (1,000 vfork+execve)" {
	run timeout 120 env LD_PRELOAD="$SHIM_LIB" UNIONSHIM_MOUNTS="$(mounts_spec)" \
		"$(probe smallstack_probe)" vfork "$TARGET" 1000
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "vforks 1000 ok 1000" ]
}

@test "10,000 threads that use the shim leave no scratch mapping behind" {
	run timeout 120 env LD_PRELOAD="$SHIM_LIB" UNIONSHIM_MOUNTS="$(mounts_spec)" \
		"$(probe smallstack_probe)" threads "$TARGET" 10000
	echo "$output"
	[ "$status" -eq 0 ]
	[[ $output =~ ^maps\ ([0-9]+)\ ([0-9]+)\ vmkib\ ([0-9]+)\ ([0-9]+)$ ]]
	# flat: a few mappings of libc's own may come and go, not one a thread
	[ $((BASH_REMATCH[2] - BASH_REMATCH[1])) -le 4 ]
	[ $((BASH_REMATCH[4] - BASH_REMATCH[3])) -le 16384 ]
}
