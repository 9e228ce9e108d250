#!/usr/bin/env bats
# Promise (semantics.md "Robustness", "Copy-up", "Lower layers stay
# untouched"): a fault in the middle of a union call reaches the program as
# a plain errno, with nothing partial visible (the union view as before, no
# copy-up temp left in the work dir), no lower touched, and the same call
# works once the cause is gone. Faults: a failing allocation (ENOMEM, each
# allocation of the call in turn), no free fd (EMFILE, 0.. fds left), the
# upper's quota spent (EDQUOT: btrfs qgroups on a loop-mounted image, as
# root; kernel overlayfs as the oracle), the work dir removed or made
# read-only while a process runs in the union, a lower file written while
# it is being copied up. A full upper disk is full_disk.bats.
#
# Helpers: fault_op (tests/probes) runs union calls one after another in
# one process and answers a line for each; libfailmalloc.so (preloaded
# before the shim) fails the Nth allocation after the probe arms it;
# libchangelower.so (preloaded after the shim) writes a lower file in the
# middle of the shim's copy of it.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/oracle

setup() {
	make_layers
	head -c 300000 /dev/urandom >"$LOWER/big"
	echo small >"$LOWER/small"
	setfattr -n user.color -v blue "$LOWER/small"
	mkdir -p "$LOWER/d1/d2" "$LOWER2/d1" "$LOWER/dd" "$LOWER2/dd"
	echo f >"$LOWER/d1/d2/f"
	echo g >"$LOWER2/d1/g"
	echo gone >"$LOWER/gone"
	echo s3 >"$LOWER/s3"
	echo hl >"$LOWER/h1"
	ln "$LOWER/h1" "$LOWER/h2"
	printf '#!/bin/sh\necho ok\n' >"$LOWER/prog"
	chmod +x "$LOWER/prog"
	LOWER_SNAP=$(lower_snap)
	FAILMALLOC=$UNIONSHIM_BUILD/probes/libfailmalloc.so
	CHANGELOWER=$UNIONSHIM_BUILD/probes/libchangelower.so
	OP=$(probe fault_op)
	MARK=$ROOT/fired
	U=$TARGET
	RUN=(in_union)
}

teardown() {
	unmount_union
	if [ -n "${FS:-}" ] && mountpoint -q "$FS"; then umount "$FS" || umount -l "$FS"; fi
	if mountpoint -q "$WORK"; then umount "$WORK" || umount -l "$WORK"; fi
}

lower_snap() {
	snapshot "$LOWER"
	snapshot "$LOWER2"
	getfattr -R -h -d -m - "$LOWER" "$LOWER2" 2>/dev/null
}

# A new empty upper and work dir.
fresh() {
	rm -rf "$UPPER" "$WORK"
	mkdir "$UPPER" "$WORK"
}

# The union as a program sees it (names, types, modes, sizes, link counts,
# contents, the xattr): a dir's size is the upper filesystem's once copied up.
view() {
	"${RUN[@]}" find "$U" -printf '%y ./%P %m %U:%G %s %n %l\n' |
		awk '$1 == "d" { $5 = "-"; $6 = "-" } { print }' | LC_ALL=C sort -k2
	"${RUN[@]}" sh -c 'cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 cat | sha256sum' _ "$U"
	"${RUN[@]}" getfattr -h -d -m user. "$U/small" 2>/dev/null || true
}

leftovers() {
	if [ "${RUN[0]}" = in_union ]; then
		(cd "$WORK" && find . -name '#us.*')
	else
		(cd "$WORK/work" && find . -mindepth 1)
	fi
}

# enomem OP ARG...: for N = 1, 2, ... fail the Nth allocation of the call
# (counted from just before it) until the call makes no Nth allocation.
# Each failed call must answer ENOMEM, leave the view, the lower and the
# work dir as they were, and the same call must work after it (nothing
# failing) as it does with no fault.
enomem() {
	local n want wview before r
	fresh
	want=$(in_union "$OP" "$U" "$@")
	wview=$(view)
	for ((n = 1; n <= 100; n++)); do
		fresh
		before=$(view)
		rm -f "$MARK"
		r=$(LD_PRELOAD=$FAILMALLOC:$SHIM_LIB UNIONSHIM_MOUNTS="$(mounts_spec)" \
			FAILMALLOC_NTH=$n FAILMALLOC_MARK=$MARK "$OP" "$U" "$@" 2>&1)
		# before any other process starts in the union (a new one
		# removes the temps of dead ones)
		expect "ENOMEM: after '$*' with allocation $n failing no temp is left in the work dir" "" "$(leftovers)"
		if [ ! -e "$MARK" ]; then
			expect "ENOMEM: '$*' with no allocation failing answers as without the helper" "$want" "$r"
			expect "ENOMEM: '$*' with no allocation failing does what it does without the helper" "$wview" "$(view)"
			break
		fi
		if [ "$r" = "$want" ]; then
			expect "ENOMEM: '$*' that worked although allocation $n failed does what it does" "$wview" "$(view)"
		else
			expect "ENOMEM: '$*' with allocation $n failing answers ENOMEM" ENOMEM "$r"
			expect "ENOMEM: after '$*' failed at allocation $n the union view is unchanged" "$before" "$(view)"
		fi
		expect "ENOMEM: '$*' works after allocation $n failed" "$want" "$(in_union "$OP" "$U" "$@")"
		expect "ENOMEM: '$*' after allocation $n failed does what it does with no fault" "$wview" "$(view)"
	done
	[ -e "$MARK" ] && BROKEN+=("setup: '$*' still allocates after 100 allocations")
	expect "ENOMEM: lower layers stay untouched by '$*'" "$LOWER_SNAP" "$(lower_snap)"
	NSWEPT+=("$* $((n - 1))")
}

# emfile OP ARG...: the call with only K = 0, 1, ... fds free until it
# works. It must answer EMFILE with nothing changed before, and work once
# fds are free again, as it does with no fault.
emfile() {
	local k want wview before r
	fresh
	want=$(in_union "$OP" "$U" "$@")
	wview=$(view)
	for ((k = 0; k <= 8; k++)); do
		fresh
		before=$(view)
		r=$(in_union "$OP" --free "$k" "$U" "$@" 2>&1)
		expect "EMFILE: after '$*' with $k fds free no temp is left in the work dir" "" "$(leftovers)"
		if [ "$r" = "$want" ]; then
			expect "EMFILE: '$*' that works with $k fds free does what it does" "$wview" "$(view)"
			break
		fi
		expect "EMFILE: '$*' with $k fds free answers EMFILE" EMFILE "$r"
		expect "EMFILE: after '$*' failed with $k fds free the union view is unchanged" "$before" "$(view)"
		expect "EMFILE: '$*' works once fds are free ($k were)" "$want" "$(in_union "$OP" "$U" "$@")"
		expect "EMFILE: '$*' once fds are free does what it does with no fault" "$wview" "$(view)"
	done
	[ "$r" = "$want" ] || BROKEN+=("setup: '$*' never worked with up to 8 fds free")
	expect "EMFILE: lower layers stay untouched by '$*'" "$LOWER_SNAP" "$(lower_snap)"
}

@test "ENOMEM: every allocation of a copy-up (data, xattrs, hard-link index), stat, readdir of a merged dir, rename, unlink, rmdir, link, getcwd, exec fails in turn: ENOMEM, nothing partial, works after" {
	enomem write big
	enomem write small
	enomem chmod small
	enomem write h1
	enomem link h1 h3
	enomem stat d1/d2/f
	enomem readdir d1
	enomem rename s3 s4
	enomem unlink gone
	enomem rmdir dd
	enomem mkdir d1/new
	enomem getcwd
	enomem exec ./prog
	# the sweep reached allocations in the shim (not only the probe's own)
	[[ " ${NSWEPT[*]} " == *"write small 1"* ]] || BROKEN+=("setup: the xattr copy-up made no allocation: ${NSWEPT[*]}")
	[[ " ${NSWEPT[*]} " == *"link h1 h3 "[1-9]* ]] || BROKEN+=("setup: link made no allocation: ${NSWEPT[*]}")
	verdict
}

@test "EMFILE: a copy-up, readdir of a merged dir, rename, unlink, rmdir, link, chmod with 0.. fds free: EMFILE or works, nothing partial, works once fds are free" {
	emfile write big
	emfile write small
	emfile chmod small
	emfile write h1
	emfile link h1 h3
	emfile stat d1/d2/f
	emfile readdir d1
	emfile rename s3 s4
	emfile unlink gone
	emfile rmdir dd
	emfile mkdir d1/new
	emfile exec ./prog
	verdict
}

# waitfor LINE: until the probe's output holds LINE.
waitfor() {
	local i
	for ((i = 0; i < 500; i++)); do grep -qxF "$1" "$ROOT/out" && return; sleep 0.01; done
}

# midjob FAULT UNDO ERRNO CALL...: a process in the union (started with the
# work dir in place) makes CALL while FAULT is done to the work dir, then
# again after UNDO. CALL either works or fails with ERRNO changing nothing
# (the upper dir as before); once UNDO is done, a failed CALL works in the
# same process, and the union is then what CALL makes with no fault. (A
# new process cannot start in the union while the work dir is missing: it
# stops with one unionshim: line, as for any bad configuration.)
midjob() {
	local fault=$1 undo=$2 err=$3 want wview before out first
	shift 3
	fresh
	want=$(in_union "$OP" "$U" "$@")
	wview=$(view)
	fresh
	rm -f "$ROOT/go1" "$ROOT/go2" "$ROOT/go3"
	in_union "$OP" "$U" stat big -- wait "$ROOT/go1" -- "$@" -- wait "$ROOT/go2" -- again -- say done -- wait "$ROOT/go3" >"$ROOT/out" &
	local pid=$!
	waitfor "waiting $ROOT/go1"
	before=$(snapshot "$UPPER")
	eval "$fault"
	touch "$ROOT/go1"
	waitfor "waiting $ROOT/go2"
	first=$(sed -n 4p "$ROOT/out")
	expect "work dir fault ($fault): no temp is left in the work dir after '$*' failed" "" "$(leftovers 2>/dev/null)"
	if [ "$first" = "$err" ]; then
		expect "work dir fault ($fault): after '$*' failed the upper dir is unchanged" "$before" "$(snapshot "$UPPER")"
	else
		expect "work dir fault ($fault): '$*' works or fails with $err" "$want" "$first"
	fi
	eval "$undo"
	touch "$ROOT/go2"
	waitfor "done"
	expect "work dir fault ($fault): no temp is left in the work dir after '$*'" "" "$(leftovers)"
	touch "$ROOT/go3"
	wait "$pid"
	out=$(sed -n 7p "$ROOT/out")
	[ "$first" = "$err" ] || want="done before"
	expect "work dir fault ($fault): '$*' failed with $err works after '$undo'" "$want" "$out"
	expect "work dir fault ($fault): '$*' did what it does with no fault" "$wview" "$(view)"
	expect "work dir fault ($fault): lower layers stay untouched by '$*'" "$LOWER_SNAP" "$(lower_snap)"
	FAILED+=("$* $first")
}

# Every call that can need the work dir, with FAULT and UNDO.
midjob_calls() {
	local call
	for call in "write small" "write h1" "link h1 h3" "chmod small" "write d1/d2/f" \
		"rename s3 s4" "unlink gone" "rmdir dd" "mkdir d1/new"; do
		# shellcheck disable=SC2086
		midjob "$1" "$2" "$3" $call
	done
}

@test "work dir removed or made read-only while a process runs in the union: a plain errno, nothing partial, works once it is back" {
	midjob_calls 'rm -rf "$WORK"' 'mkdir "$WORK"' ENOENT
	midjob_calls 'mount --bind "$WORK" "$WORK" && mount -o remount,ro,bind "$WORK"' 'umount "$WORK"' EROFS
	# the copy-ups did meet the fault
	[[ "${FAILED[*]}" == *"write small ENOENT"*"write small EROFS"* ]] || BROKEN+=("setup: the copy-up never met the fault: ${FAILED[*]}")
	verdict
}

# nofd MODE: calls that natively take no fd, made with none free, on a
# fresh union (MODE shim|overlayfs); their answers and the view after.
nofd() {
	fresh
	use_union "$1"
	"${RUN[@]}" "$OP" --free 0 "$U" unlink gone -- unlink d1/d2/f -- stat small -- mkdir d1/new -- getcwd
	view
	unmount_union
}

@test "EMFILE: calls that take no fd natively (unlink with its whiteout, in a dir copied up for it; stat; mkdir) work with no fd free, as on overlayfs" {
	local want
	want=$(nofd overlayfs)
	expect "EMFILE: calls that take no fd natively work with none free, as on overlayfs" "$want" "$(nofd shim)"
	expect "EMFILE: lower layers stay untouched" "$LOWER_SNAP" "$(lower_snap)"
	verdict
}

# fdfree MODE K OP ARG...: OP on a fresh union (MODE shim|overlayfs) with
# only K fds free below a soft limit under the hard one (as a login
# session has it: 1024 of 524288); its answer and the view after.
fdfree() {
	local mode=$1 k=$2
	shift 2
	fresh
	use_union "$mode"
	(ulimit -S -n 1024 && "${RUN[@]}" "$OP" --free "$k" "$U" "$@")
	view
	unmount_union
}

@test "EMFILE parity: a copy-up (write, chmod), rename, link, readdir and rmdir of a merged dir with 0, 1, 2 fds free answer as on overlayfs" {
	local k call want
	for k in 0 1 2; do
		for call in "write big" "write small" "chmod small" "write h1" "link h1 h3" \
			"rename s3 s4" "readdir d1" "rmdir dd" "write d1/d2/f"; do
			# shellcheck disable=SC2086
			want=$(fdfree overlayfs "$k" $call)
			# shellcheck disable=SC2086
			expect "EMFILE parity: '$call' with $k fds free answers as on overlayfs" "$want" "$(fdfree shim "$k" $call)"
		done
	done
	# the room made for the shim's fds goes again: the soft limit is back
	fresh
	use_union shim
	expect "EMFILE parity: the soft limit is as before after calls that made room" \
		"$(printf 'ok\n1024\nok\nok\n1024\nok')" \
		"$( (ulimit -S -n 1024 && "${RUN[@]}" "$OP" --free 0 "$U" chmod small -- sh 'ulimit -S -n' -- rename s3 s4 -- sh 'ulimit -S -n'))"
	unmount_union
	expect "EMFILE parity: lower layers stay untouched" "$LOWER_SNAP" "$(lower_snap)"
	verdict
}

# changed HOW samefs|crossfs: append a line to big in the union while
# libchangelower writes the lower big (HOW) in the middle of its copy-up.
# The union file must be one version of the lower (before or after the
# change) plus the line, never a mix. The upper and work dirs are on a
# tmpfs (no FICLONE, so the copy goes in pieces): with the lower on it too,
# the kernel's copy_file_range copies; from another filesystem, the
# shim's read/write loop.
changed() {
	local old=$ROOT/big.old got LOWER=$LOWER
	FS=$ROOT/fs
	mkdir -p "$FS"
	mountpoint -q "$FS" || mount -t tmpfs tmpfs "$FS"
	UPPER=$FS/upper WORK=$FS/work
	if [ "$2" = samefs ]; then
		rm -rf "$FS/lower"
		cp -a "$LOWER" "$FS/lower"
		LOWER=$FS/lower
	fi
	fresh
	cp "$LOWER/big" "$old"
	got=$(LD_PRELOAD=$SHIM_LIB:$CHANGELOWER UNIONSHIM_MOUNTS="$(mounts_spec)" \
		CHANGELOWER_FILE=$LOWER/big CHANGELOWER_HOW=$1 "$OP" "$U" write big)
	expect "lower changed during copy-up ($1, $2): the write works" ok "$got"
	expect "lower changed during copy-up ($1, $2): no temp is left in the work dir" "" "$(leftovers)"
	cmp -s "$LOWER/big" "$old" && BROKEN+=("setup: the lower big did not change ($1, $2)")
	got=$(in_union sh -c 'sha256sum <"$1"' _ "$U/big")
	if [ "$got" != "$( { cat "$LOWER/big"; echo more; } | sha256sum)" ]; then
		expect "lower changed during copy-up ($1, $2): the union file is one version of the lower plus the line, never a mix" \
			"$( { cat "$old"; echo more; } | sha256sum)" "$got"
	fi
	expect "lower changed during copy-up ($1, $2): its size is its data's" "$(wc -c <"$UPPER/big")" "$(in_union stat -c %s "$U/big")"
	cp "$old" "$LOWER/big"
}

@test "a lower file written during its copy-up (cut, grown, rewritten): the copy is one version of it, never a mix" {
	local how
	for how in shrink grow rewrite; do
		changed $how samefs
		changed $how crossfs
	done
	verdict
}

@test "a lower file written during every copy of it: EBUSY, nothing partial, works once the writer stops" {
	local got before
	FS=$ROOT/fs
	mkdir -p "$FS"
	mount -t tmpfs tmpfs "$FS"
	UPPER=$FS/upper WORK=$FS/work
	fresh
	in_union ls "$U" >/dev/null
	before=$(snapshot "$UPPER")
	got=$(LD_PRELOAD=$SHIM_LIB:$CHANGELOWER UNIONSHIM_MOUNTS="$(mounts_spec)" \
		CHANGELOWER_FILE=$LOWER/big CHANGELOWER_HOW=grow CHANGELOWER_TIMES=1000 "$OP" "$U" write big)
	expect "a lower file that never holds still: the write fails with EBUSY" EBUSY "$got"
	expect "a lower file that never holds still: no temp is left in the work dir" "" "$(leftovers)"
	expect "a lower file that never holds still: the upper dir is unchanged" "$before" "$(snapshot "$UPPER")"
	expect "a lower file that never holds still: the write works once it does" ok "$(in_union "$OP" "$U" write big)"
	got=$(in_union sh -c 'sha256sum <"$1"' _ "$U/big")
	expect "a lower file that never holds still: the copy is its last version plus the line" \
		"$( { cat "$LOWER/big"; echo more; } | sha256sum)" "$got"
	verdict
}

# quota_fs: upper and work dirs in a btrfs subvolume (a loop-mounted
# image) with qgroups on; quota LIMIT sets its limit (none: no limit).
quota_fs() {
	command -v mkfs.btrfs >/dev/null || skip "mkfs.btrfs missing (btrfs-progs; .ci/run installs it)"
	FS=$ROOT/qfs
	mkdir -p "$FS"
	truncate -s 200M "$ROOT/qfs.img"
	mkfs.btrfs -q "$ROOT/qfs.img" >/dev/null 2>&1
	mount -o loop "$ROOT/qfs.img" "$FS"
	btrfs quota enable "$FS"
	btrfs subvolume create "$FS/sv" >/dev/null
	UPPER=$FS/sv/upper WORK=$FS/sv/work
}

quota() {
	btrfs qgroup limit "$1" "$FS/sv"
}

# edquot MODE OP ARG...: the call on a fresh union (MODE shim|overlayfs)
# whose upper subvolume has a quota of LIMIT KiB, all taken by a filler
# (FILL=1) or free (FILL=0: a big copy starts, then runs out); EDQUOT or
# works; nothing changed when it failed; works once
# the limit is lifted, doing what it does with no limit.
edquot() {
	local mode=$1 want wview before r
	shift
	unmount_union
	fresh
	quota none
	use_union "$mode"
	want=$("${RUN[@]}" "$OP" "$U" "$@")
	wview=$(view)
	unmount_union
	fresh
	use_union "$mode"
	"${RUN[@]}" ls "$U" >/dev/null
	before=$(view)
	sync
	quota "${LIMIT}k"
	[ "$FILL" = 0 ] || head -c 10000000 /dev/zero >"$FS/sv/filler" 2>/dev/null || true
	r=$("${RUN[@]}" "$OP" "$U" "$@" 2>&1)
	expect "EDQUOT ($mode): after '$*' with the quota spent no temp is left in the work dir" "" "$(leftovers)"
	if [ "$r" = "$want" ]; then
		OKS+=("$mode $*")
	else
		FAILS+=("$mode $*")
		expect "EDQUOT ($mode): '$*' with the quota spent answers EDQUOT" EDQUOT "$r"
		expect "EDQUOT ($mode): after '$*' failed the union view is unchanged" "$before" "$(view)"
	fi
	rm -f "$FS/sv/filler"
	quota none
	[ "$r" = "$want" ] || r=$("${RUN[@]}" "$OP" "$U" "$@" 2>&1)
	expect "EDQUOT ($mode): '$*' works once the quota is lifted" "$want" "$r"
	expect "EDQUOT ($mode): '$*' does what it does with no quota" "$wview" "$(view)"
	expect "EDQUOT ($mode): lower layers stay untouched by '$*'" "$LOWER_SNAP" "$(lower_snap)"
}

edquot_calls() {
	local LIMIT=200 FILL=0 OKS=() FAILS=()
	quota_fs
	edquot "$1" write big
	[[ " ${FAILS[*]} " == *"write big"* ]] || BROKEN+=("setup: the 300 KB copy-up fit in a 200 KiB quota")
	FILL=1
	edquot "$1" write big
	edquot "$1" write small
	edquot "$1" chmod small
	edquot "$1" write h1
	edquot "$1" link h1 h3
	edquot "$1" rename s3 s4
	edquot "$1" unlink gone
	edquot "$1" rmdir dd
	edquot "$1" mkdir d1/new
	[[ " ${FAILS[*]} " == *"write small"*"mkdir d1/new"* ]] || BROKEN+=("setup: a copy-up or create worked with the quota spent: ${OKS[*]}")
	verdict
}

@test "EDQUOT: copy-ups, whiteouts, the link index, creates with the quota of the upper spent (btrfs qgroups): EDQUOT, nothing partial, works once lifted (shim)" {
	edquot_calls shim
}

@test "EDQUOT: copy-ups, whiteouts, the link index, creates with the quota of the upper spent (btrfs qgroups): EDQUOT, nothing partial, works once lifted (overlayfs oracle)" {
	edquot_calls overlayfs
}
