#!/usr/bin/env bats
# Promise (semantics.md "Copy-up", "Removing and renaming", "Identity",
# "Hard links", and "Where this page is silent, do what kernel overlayfs
# does"; "Lower layers stay untouched"): a sequence of ordinary shell
# writes run in a union under the shim behaves as the same sequence run on
# a kernel overlayfs mount (index=on,redirect_dir=on: a dir that exists
# below is renamed in place, its tree kept) over the same lower layers: every
# step exits with the same status and prints the same stdout (read steps:
# cat, ls, ls -U in readdir's order, readlink), the final view has the
# same names, types, modes,
# link texts and file contents, the upper holds the same dirs (the same
# dirs copied up: none for a call the kernel refuses), and the shim's
# lower copy is bit for bit unchanged (mtimes and ctimes too); links that
# leave the root reach alike dirs on both sides.
# Identity: the lowers have hard links (a file with one or two more names,
# in its dir or another dir of its layer; some hidden by the top lower);
# on both sides all names have one st_dev, the same names are one file
# (one st_ino), at the end for every name and after each step that named
# one of a family (lower hard links, ln, cp -a of several) for those, and
# every name has the same st_nlink (a dir merged from layers says 1, one
# of one layer its own count: a dir copied up where overlayfs copies
# nothing shows); each name there before and after kept its st_ino on both
# sides or on neither; and under the shim every name that no rm, rmdir,
# mv or cp could have replaced has its st_ino of before (overlayfs must
# pass this too, or gen_ops.py's list is wrong). Inode numbers differ
# between the two: tests/lib/ops_ids.awk turns them into which names are
# one file.
# Sequences and lowers come from tests/lib/gen_ops.py, one per seed; each
# sequence runs as one `sh`, then `find` prints the view from inside the
# root; stderr is not compared (tools and overlayfs word errors
# differently). Dir sizes and times are left out of the view.
#
# One seed alone:  OPS_SEED=123 bats tests/bats/ops_differential.bats
# (or a range: OPS_SEED=1-40). By hand: python3 tests/lib/gen_ops.py
# --seeds 123 --out DIR, then run `sh DIR/s123/ops.sh ROOT` on an overlayfs
# mount of DIR/s123/c1/{l1[:l2]} and under the shim over c2.
# OPS_SELFCHECK=1 runs overlayfs in place of the shim too: every seed must
# pass then, or the generator has an op whose outcome is not determined.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/itest

BATCH=10        # seeds per test; tests 1..20 run seeds 1..200
GEN=$BATS_TEST_DIRNAME/../lib/gen_ops.py

# Each root sits under PAD: the same empty dirs for overlayfs and shim, so
# a symlink carried to a shallower dir that leaves the root (`..` at the
# root leaves the union) reaches alike dirs on both sides (gen_ops.py
# keeps link texts within MAX_UP=6 levels).
PAD=pad/pad/pad/pad/pad/pad/pad/pad

teardown() {
	local _dev m _rest
	while read -r _dev m _rest; do
		[[ $m != "$BATS_TEST_TMPDIR"/* ]] || umount "$m" || umount -l "$m"
	done < <(tac /proc/self/mounts)
}

# Run as `sh -c "$RUN" sh ROOT OPS`: each name's st_ino before the ops,
# the ops, then the view from inside the root: names, types, modes, link
# texts, st_ino, st_nlink and st_dev, one sha256 per file, sorted (readdir order is
# the filesystem's business). ops_ids.awk turns the inode numbers into
# which names are one file and which kept their st_ino.
RUN='cd "$1" || exit 99; echo "=== ids0"; find . -printf "%p\t%i\n"; echo "=== ops"
. "$2"; echo "=== view"
find . -printf "%p\t%y %m %l\t%i %n %D\n" -type f -exec sha256sum {} + | LC_ALL=C sort'
IDS_AWK=$BATS_TEST_DIRNAME/../lib/ops_ids.awk

# Everything a write could change in the lower copies (ctime covers modes,
# owners and xattrs; mtime and sums the data).
lower_state() {
	(cd "$BATS_TEST_TMPDIR" && find s*/c2 -printf '%p %y %m %s %l %T@ %C@ %U:%G %n\n' \
		-type f -exec sha256sum {} + | LC_ALL=C sort)
}

# What links leaving the roots made outside them: sK/k/pad... and sK/s/pad...
# listed as sK/pad... for each side.
outside() {
	(cd "$BATS_TEST_TMPDIR" && find s*/"$1"/pad -path "*/root" -prune -o \
		-printf '%p %y %m %l\n' | sed "s#^\(s[0-9]*\)/$1/#\1/#" | LC_ALL=C sort)
}

# The dirs in seed dir D's upper for side SIDE (k, s), sorted.
upper_dirs() {
	(cd "$d/$1/u" && find . -mindepth 1 -type d | LC_ALL=C sort)
}

# Run seed S (generated under $BATS_TEST_TMPDIR/sS) on overlayfs and under
# the shim, the two at once; print what differs and return 1 when
# anything does. Few processes: this runs 200 times in make check.
run_seed() {
	local s=$1 d=$BATS_TEST_TMPDIR/s$1 lw kall sall kout sout bad= spec
	read -r lw <"$d/lowerdirs"
	mount -t overlay overlay -o "lowerdir=$d/c1/${lw/:/:$d/c1/},upperdir=$d/k/u,workdir=$d/k/w,index=on,redirect_dir=on" "$d/k/$PAD/root"
	(
		cd / && timeout -k 5 60 sh -c "$RUN" sh "$d/k/$PAD/root" "$d/ops.sh" >"$d/k/raw" 2>/dev/null
		umount "$d/k/$PAD/root"
		LC_ALL=C exec awk -v stable="$d/stable" -v inofile="$d/k/ino" -f "$IDS_AWK" "$d/k/raw" >"$d/k/out"
	) &
	spec="target=$d/s/$PAD/root,lowerdir=$d/c2/${lw/:/:$d/c2/},upperdir=$d/s/u,workdir=$d/s/w"
	if [ "${OPS_SELFCHECK:-}" = 1 ]; then
		# the oracle against itself: a seed that fails here is the
		# generator's fault (an op whose outcome is not determined)
		mount -t overlay overlay -o "lowerdir=$d/c2/${lw/:/:$d/c2/},upperdir=$d/s/u,workdir=$d/s/w,index=on,redirect_dir=on" "$d/s/$PAD/root"
		(cd / && timeout -k 5 60 sh -c "$RUN" sh "$d/s/$PAD/root" "$d/ops.sh" >"$d/s/raw" 2>/dev/null)
		umount "$d/s/$PAD/root"
	else
		(cd / && LD_PRELOAD="$SHIM_LIB" UNIONSHIM_MOUNTS="$spec" \
			exec timeout -k 5 60 sh -c "$RUN" sh "$d/s/$PAD/root" "$d/ops.sh" >"$d/s/raw" 2>/dev/null)
	fi
	LC_ALL=C awk -v stable="$d/stable" -v inofile="$d/s/ino" -f "$IDS_AWK" "$d/s/raw" >"$d/s/out" ||
		bad="$bad unfinished(shim)"
	wait $! || bad="$bad unfinished(overlayfs)"
	IFS= read -r -d '' kall <"$d/k/out" || true
	IFS= read -r -d '' sall <"$d/s/out" || true
	# st_ino of names no op replaced stays, under the shim whatever
	# overlayfs does (there too, or the generator's list is wrong)
	[ ! -s "$d/s/ino" ] || bad="$bad st_ino-kept(shim)"
	[ ! -s "$d/k/ino" ] || bad="$bad st_ino-kept(overlayfs:test-bug?)"
	# the dirs a run left in the upper: the same copy-ups on both sides
	# (a refused call, a read, copies no dir up)
	[ "$(upper_dirs k)" = "$(upper_dirs s)" ] || bad="$bad upper-dirs"
	[ "$kall" != "$sall" ] || [ -n "$bad" ] || return 0

	kout=${kall%%=== view*} sout=${sall%%=== view*}
	[ "$kout" = "$sout" ] || bad="$bad steps"
	kout=${kall#*=== view} sout=${sall#*=== view}
	[ "${kout%%=== ids*}" = "${sout%%=== ids*}" ] || bad="$bad final-view"
	[ "${kall#*=== ids}" = "${sall#*=== ids}" ] || bad="$bad identity"
	echo "=== seed $s: mismatch in:$bad"
	[ "${QUIET:-}" = 1 ] && return 1

	echo "reproduce: OPS_SEED=$s UNIONSHIM_BUILD=$UNIONSHIM_BUILD bats $BATS_TEST_FILENAME"
	echo "--- ops.sh (lowerdir=$lw):"
	cat "$d/ops.sh"
	echo "--- lower layers:"
	(cd "$d/c2" && find . -mindepth 1 -printf '%p %y %m %l (inode %i, %n links)\n' | LC_ALL=C sort)
	echo "--- stdout, the final view, identity (PATH TYPE NLINK SAME-AS KEPT):"
	echo "    kernel overlayfs (<) / shim (>):"
	diff "$d/k/out" "$d/s/out" || true
	echo "--- dirs in the upper: kernel overlayfs (<) / shim (>):"
	diff <(upper_dirs k) <(upper_dirs s) || true
	[ ! -s "$d/s/ino" ] || { echo "--- shim: names no op replaced:"; cat "$d/s/ino"; }
	[ ! -s "$d/k/ino" ] || { echo "--- overlayfs: names no op replaced:"; cat "$d/k/ino"; }
	return 1
}

# Run seeds given as gen_ops.py takes them ("7", "1-10"); report them all,
# print the first two failures in full; then check that no lower copy
# changed and that what links made outside the roots is alike.
run_seeds() {
	local spec=$1 s d failed=() shown=0 before after outk outs
	need_overlay
	python3 "$GEN" --seeds "$spec" --out "$BATS_TEST_TMPDIR"
	local dirs=()
	for d in "$BATS_TEST_TMPDIR"/s*; do
		dirs+=("$d"/{k,s}/{u,w,$PAD/root})
	done
	mkdir -p "${dirs[@]}"
	before=$(lower_state)
	for d in "$BATS_TEST_TMPDIR"/s*; do
		s=${d##*/s}
		if [ "$shown" -lt 2 ]; then
			run_seed "$s" || { failed+=("$s"); shown=$((shown + 1)); }
		else
			QUIET=1 run_seed "$s" || failed+=("$s")
		fi
	done
	after=$(lower_state)
	if [ "$before" != "$after" ]; then
		echo "=== lower copies used by the shim changed (sN/c2 is seed N's):"
		diff <(echo "$before") <(echo "$after") || true
		failed+=(lower)
	fi
	outk=$(outside k) outs=$(outside s)
	if [ "$outk" != "$outs" ]; then
		echo "=== outside the roots: kernel overlayfs (<) / shim (>):"
		diff <(echo "$outk") <(echo "$outs") || true
		failed+=(outside)
	fi
	if [ "${#failed[@]}" -gt 0 ]; then
		echo "=== failing: ${failed[*]}"
		return 1
	fi
}

# Batch N runs its seeds; with OPS_SEED set, batch 1 runs those seeds
# instead and the other batches have nothing to do.
batch() {
	if [ -n "${OPS_SEED:-}" ]; then
		[ "$1" -ne 1 ] || run_seeds "$OPS_SEED"
		return
	fi
	run_seeds "$((($1 - 1) * BATCH + 1))-$(($1 * BATCH))"
}

@test "gen_ops.py: same seed, same script and lowers; sequences reach the cases" {
	local a=$BATS_TEST_TMPDIR/a b=$BATS_TEST_TMPDIR/b
	python3 "$GEN" --seeds 5 --out "$a"
	python3 "$GEN" --seeds 5 --out "$b"
	same "$(cat "$a/s5/ops.sh")" "$(cat "$b/s5/ops.sh")"
	same "$(snapshot "$a/s5/c1")" "$(snapshot "$b/s5/c2")"
	same "$(cat "$a/s5/stable")" "$(cat "$b/s5/stable")"
	# the lower hard links: the same names are one file in both copies
	local c links=()
	for c in "$a/s5/c1" "$b/s5/c2"; do
		links+=("$(cd "$c" && find . -type f -links +1 -printf '%i\t%p\n' |
			LC_ALL=C sort | awk -F '\t' '{ g[$1] = g[$1] " " $2 }
				END { for (i in g) print g[i] }' | LC_ALL=C sort)")
	done
	[ -n "${links[0]}" ]
	same "${links[0]}" "${links[1]}"
	# the seeds of make check, taken together, use every op kind, and
	# each sequence is long enough
	python3 "$GEN" --seeds 1-200 --script >"$BATS_TEST_TMPDIR/all.sh"
	local op
	for op in "> " ">> " "truncate -s" "touch " "mkdir " "mkdir -p" "rmdir " \
		"rm " "rm -f " "rm -rf " "mv " "mv -T" "cp -a" "ln " "ln -s" \
		"chmod " "cat " "ls -A" "ls -UA" "readlink " "/\*;"; do
		grep -q -- "$op" "$BATS_TEST_TMPDIR/all.sh" || { echo "no op: $op"; false; }
	done
	for s in 1 50 199; do
		[ "$(python3 "$GEN" --seeds "$s" --script | grep -c 'rc=\$?')" -ge 25 ]
	done
	# nearly every sequence has lower hard links in its union, and ops
	# of each kind are followed by the identity check of their names
	[ "$(grep -c '^# lower hard links seen in the union: none' "$BATS_TEST_TMPDIR/all.sh")" -le 10 ]
	grep -B1 -- "-printf '@" "$BATS_TEST_TMPDIR/all.sh" | grep 'rc=\$?' >"$BATS_TEST_TMPDIR/checked"
	for op in "> " ">> " "truncate -s" "touch " "rm " "rm -rf " "mv " "cp -a" \
		"ln " "chmod "; do
		grep -q -- "$op" "$BATS_TEST_TMPDIR/checked" || { echo "not checked after: $op"; false; }
	done
}

@test "seeds 1-10: shim == kernel overlayfs, step by step" { batch 1; }
@test "seeds 11-20: shim == kernel overlayfs, step by step" { batch 2; }
@test "seeds 21-30: shim == kernel overlayfs, step by step" { batch 3; }
@test "seeds 31-40: shim == kernel overlayfs, step by step" { batch 4; }
@test "seeds 41-50: shim == kernel overlayfs, step by step" { batch 5; }
@test "seeds 51-60: shim == kernel overlayfs, step by step" { batch 6; }
@test "seeds 61-70: shim == kernel overlayfs, step by step" { batch 7; }
@test "seeds 71-80: shim == kernel overlayfs, step by step" { batch 8; }
@test "seeds 81-90: shim == kernel overlayfs, step by step" { batch 9; }
@test "seeds 91-100: shim == kernel overlayfs, step by step" { batch 10; }
@test "seeds 101-110: shim == kernel overlayfs, step by step" { batch 11; }
@test "seeds 111-120: shim == kernel overlayfs, step by step" { batch 12; }
@test "seeds 121-130: shim == kernel overlayfs, step by step" { batch 13; }
@test "seeds 131-140: shim == kernel overlayfs, step by step" { batch 14; }
@test "seeds 141-150: shim == kernel overlayfs, step by step" { batch 15; }
@test "seeds 151-160: shim == kernel overlayfs, step by step" { batch 16; }
@test "seeds 161-170: shim == kernel overlayfs, step by step" { batch 17; }
@test "seeds 171-180: shim == kernel overlayfs, step by step" { batch 18; }
@test "seeds 181-190: shim == kernel overlayfs, step by step" { batch 19; }
@test "seeds 191-200: shim == kernel overlayfs, step by step" { batch 20; }
