#!/usr/bin/env bats
# Promise (issue 11, `unionctl commit`): the changes of an upper layer are
# applied onto its lower dir, so that the lower alone shows what the union
# showed (names, types, modes, contents, symlink targets, hard-link groups,
# user xattrs: tests/lib/manifest.py), with nothing of the union's own
# (user.unionshim.*, trusted.overlay.* xattrs, whiteouts, opaque markers,
# temps) left in it; then the upper and the work dir are empty. Layers
# written by the shim and by kernel overlayfs. A commit killed with
# SIGKILL at any moment and run again ends the same, bit for bit.

bats_require_minimum_version 1.5.0

load ../lib/common

UNIONCTL=$UNIONSHIM_BUILD/unionctl
MANIFEST=$BATS_TEST_DIRNAME/../lib/manifest.py
L=$(printf 'L%.0s' {1..255})
MOUNTED=

setup() {
	make_layers
}

teardown() {
	if [ -n "$MOUNTED" ] && mountpoint -q "$MOUNTED"; then
		umount "$MOUNTED" || umount -l "$MOUNTED"
	fi
	[ -z "${FAST:-}" ] || rm -rf "$FAST"
}

# A union of the lower $LOWER (or of the lowers $LOWERS, A:B...).
shim() {
	LD_PRELOAD=$SHIM_LIB UNIONSHIM_MOUNTS="target=$TARGET,lowerdir=${LOWERS:-$LOWER},upperdir=$UPPER,workdir=$WORK" "$@"
}

# What the lowers alone show (after a commit): one lower, or the union
# of $LOWERS through the shim.
lowers_view() {
	if [ -n "${LOWERS:-}" ]; then
		LD_PRELOAD=$SHIM_LIB UNIONSHIM_MOUNTS="target=$TARGET,lowerdir=$LOWERS" python3 "$MANIFEST" "$TARGET"
	else
		python3 "$MANIFEST" "$LOWER"
	fi
}

ovl_mount() {
	need_overlay
	mount -t overlay overlay -o "lowerdir=$LOWER,upperdir=$UPPER,workdir=$WORK,index=on,xino=on" "$TARGET" ||
		skip "kernel overlayfs cannot be mounted with index=on,xino=on here"
	MOUNTED=$TARGET
}

fill_lower() {
	mkdir -p "$LOWER/d" "$LOWER/e/sub" "$LOWER/o/deep" "$LOWER/o2" "$LOWER/keep"
	echo a >"$LOWER/a"
	echo b >"$LOWER/d/b"
	echo c >"$LOWER/e/sub/c"
	echo "$L" >"$LOWER/d/$L"
	echo h >"$LOWER/h1"
	ln "$LOWER/h1" "$LOWER/d/h2"
	ln "$LOWER/h1" "$LOWER/keep/h3"
	echo x >"$LOWER/o/x"
	echo x >"$LOWER/o/deep/x"
	echo y2 >"$LOWER/o2/y2"
	ln -s a "$LOWER/s"
	echo same >"$LOWER/same"
	echo k >"$LOWER/keep/k"
	echo k2 >"$LOWER/keep/k2"
	setfattr -n user.old -v 1 "$LOWER/keep/k"
	mkfifo "$LOWER/fifo"
	seq 1 300000 >"$LOWER/big"
}

# The job, through the union at $1, by PREFIX... (env or shim).
job() {
	local u=$1
	shift
	"$@" env L="$L" bash -c '
		set -e
		cd "$1"
		echo new >n; ln n n2
		mkdir -p nd/deep; echo q >nd/deep/q; ln -s ../n nd/ln
		echo more >>a
		rm -r e
		rm -r o; mkdir -p o/deep; echo y >o/y; echo z >o/deep/z
		echo hh >>h1
		chmod 600 d/b
		ln -sf b s
		chmod 644 same
		setfattr -n user.t -v 1 d; setfattr -n user.f -v 2 a
		setfattr -x user.old keep/k
		rm "d/$L"; echo long >"nd/$L"
		echo odd >"$(printf "x\ny")"; echo q >"q\"t"; echo b >"b\\s"
		rm -r o2; echo now-a-file >o2
		echo tail >>big
		rm fifo; mkfifo nfifo
		rm keep/k2; mkdir keep/k2; echo in >keep/k2/in
		mknod nd/null c 1 3
	' _ "$u"
}

# The lower after the commit is the union before, and nothing else is left.
check_committed() {
	local before=$1
	[ "$(python3 "$MANIFEST" "$LOWER")" = "$before" ]
	[ -z "$(ls -A "$UPPER")" ]
	[ -z "$(ls -A "$WORK")" ]
	[ -z "$(find "$LOWER" -name '.#unionctl.*' -o -name '.wh.*')" ]
	[ -z "$(find "$LOWER" -type c ! -path "$LOWER/nd/null")" ]
	[ -z "$(getfattr -R -h -d -m '^(user\.unionshim|trusted\.overlay|user\.overlay)' "$LOWER" 2>/dev/null)" ]
}

@test "commit of layers written by the shim: the lower becomes the union view" {
	fill_lower
	job "$TARGET" shim
	local before
	before=$(shim python3 "$MANIFEST" "$TARGET")
	[ -n "$(find "$WORK" -path '*#index*' -type f)" ] # a hard link went through the index
	run -0 "$UNIONCTL" commit --lower "$LOWER" --upper "$UPPER" --work "$WORK"
	[ -z "$output" ]
	check_committed "$before"
	# the union, now empty above, shows the same
	[ "$(shim python3 "$MANIFEST" "$TARGET")" = "$before" ]
	# and a second commit has nothing to do
	run -0 "$UNIONCTL" commit --lower "$LOWER" --upper "$UPPER" --work "$WORK"
	[ "$(python3 "$MANIFEST" "$LOWER")" = "$before" ]
}

@test "commit of layers written by kernel overlayfs (index=on)" {
	fill_lower
	ovl_mount
	job "$TARGET" env
	local before
	before=$(python3 "$MANIFEST" "$TARGET")
	umount "$TARGET"
	[ -n "$(ls -A "$WORK/index")" ] # a hard link went through the index
	run -0 "$UNIONCTL" commit --lower "$LOWER" --upper "$UPPER" --work "$WORK"
	check_committed "$before"
}

@test "--dry-run lists the steps and changes nothing" {
	fill_lower
	job "$TARGET" shim
	local snap
	snap=$(snapshot "$ROOT")
	run -0 "$UNIONCTL" commit --dry-run --lower "$LOWER" --upper "$UPPER" --work "$WORK"
	[ "$(snapshot "$ROOT")" = "$snap" ]
	[[ "$output" == *'install "x\ny"'* ]]
	[[ "$output" == *"remove e"$'\n'* ]]
	[[ "$output" == *"link keep/h3 = d/h2"* ]]
	[[ "$output" == *"mkdir nd"* ]]
	[[ "$output" == *"meta d"* ]]
}

@test "bad input: one line, exit 2, nothing written" {
	fill_lower
	local snap
	snap=$(snapshot "$ROOT")
	run -2 "$UNIONCTL" commit --lower "$LOWER" --upper "$UPPER"
	[ "$output" = "unionctl commit: --work DIR is required (see unionctl commit --help)" ]
	run -2 "$UNIONCTL" commit --upper "$UPPER" --work "$WORK"
	[ "$output" = "unionctl commit: --lower DIR is required (see unionctl commit --help)" ]
	run -2 "$UNIONCTL" commit --lower "$LOWER" --upper "$UPPER" --work "$LOWER/d"
	[ "$output" = "unionctl commit: --work $LOWER/d is inside --lower $LOWER" ]
	run -2 "$UNIONCTL" commit --lower "$LOWER" --upper "$WORK" --work "$WORK"
	[ "$output" = "unionctl commit: --work and --upper are the same dir $WORK" ]
	run -2 "$UNIONCTL" commit --lower "$ROOT/nope" --upper "$UPPER" --work "$WORK"
	[ "$output" = "unionctl commit: --lower $ROOT/nope: No such file or directory" ]
	run -2 "$UNIONCTL" commit --lower "$LOWER" --upper "$UPPER" --work "$WORK" --frob
	[ "${#lines[@]}" -eq 1 ]
	[ "$(snapshot "$ROOT")" = "$snap" ]
	run -0 "$UNIONCTL" commit --help
	[[ "$output" == *"--dry-run"*"Examples"* ]]
}

@test "a journal of a commit into another lower is refused" {
	fill_lower
	job "$TARGET" shim
	mkdir "$WORK/#commit"
	printf 'unionctl-commit 1 0123456789abcdef\n/elsewhere\0' >"$WORK/#commit/plan"
	run -1 "$UNIONCTL" commit --lower "$LOWER" --upper "$UPPER" --work "$WORK"
	[ "$output" = "unionctl commit: the work dir holds an unfinished commit into /elsewhere, not into --lower $LOWER: finish that one first" ]
	[ -n "$(ls -A "$UPPER")" ]
}

# The crash test's tree: big enough that a kill lands mid-way.
fill_big() {
	python3 - "$LOWER" <<'PY'
import os, random, sys
r = random.Random(11)
root = sys.argv[1]
for d in range(8):
    os.makedirs(f"{root}/src/d{d}", exist_ok=True)
    for f in range(25):
        with open(f"{root}/src/d{d}/f{f}", "w") as fh:
            fh.write(f"{d}/{f}\n" * r.randint(1, 200))
os.makedirs(f"{root}/big", exist_ok=True)
for b in range(2):
    with open(f"{root}/big/b{b}", "wb") as fh:
        fh.write(r.randbytes(1 << 20))
os.makedirs(f"{root}/hl", exist_ok=True)
for g in range(20):
    with open(f"{root}/hl/g{g}", "w") as fh:
        fh.write(f"group {g}\n")
    os.link(f"{root}/hl/g{g}", f"{root}/src/d{g % 8}/link{g}")
os.makedirs(f"{root}/gone/sub", exist_ok=True)
for f in range(50):
    open(f"{root}/gone/sub/f{f}", "w").write("x")
os.makedirs(f"{root}/opq/keep", exist_ok=True)
for f in range(50):
    open(f"{root}/opq/f{f}", "w").write("o")
PY
}

big_job() {
	shim env L="$L" bash -c '
		set -e
		cd "$1"
		for d in 0 1 2 3 4 5 6 7; do
			for f in 0 3 6 9 12 15 18 21 24; do echo "more $d" >>src/d$d/f$f; done
		done
		for b in 0 1; do echo tail >>big/b$b; done
		for g in 0 2 4 6 8 10 12 14 16 18; do echo "changed" >>hl/g$g; done
		mkdir -p new/a/b
		for f in $(seq 0 99); do echo "new $f" >new/a/b/n$f; done
		ln new/a/b/n0 new/a/n0link
		rm -r gone src/d7/f1 src/d7/f2
		rm -r opq; mkdir opq; echo fresh >opq/fresh
		setfattr -n user.x -v commit src/d0/f1
		chmod 600 src/d1/f1
		ln -s ../big/b0 src/bigl
		echo long >"$L"; echo odd >"$(printf "x\ny")"
	' _ "$TARGET"
}

# Kill commits at random moments, run them again; the lowers end as the
# union view every time. NLOWERS 2: the tree is the bottom lower, under a
# topmost that hides or replaces some of it.
crash_rounds() {
	local nlowers=$1
	# on a tmpfs when there is one: 50 rounds on a busy disk take minutes
	if FAST=$(mktemp -d /dev/shm/uc-crash.XXXXXX 2>/dev/null) &&
		touch "$FAST/x" && setfattr -n user.t -v 1 "$FAST/x" 2>/dev/null; then
		ROOT=$FAST LOWER=$FAST/lower UPPER=$FAST/upper WORK=$FAST/work TARGET=$FAST/target
		LOWER2=$FAST/lower2
		mkdir "$LOWER" "$LOWER2" "$UPPER" "$WORK" "$TARGET"
	fi
	local largs=(--lower "$LOWER")
	if [ "$nlowers" = 2 ]; then
		LOWER=$LOWER2 fill_big
		LOWERS=$LOWER:$LOWER2
		largs+=(--lower "$LOWER2")
		# the topmost: a whiteout, an opaque dir, a file over a bottom one
		mkdir -p "$LOWER/src/d2" "$LOWER/src/d3" "$LOWER/opq"
		mknod "$LOWER/src/d3/f0" c 0 0
		: >"$LOWER/opq/.wh..wh..opq"
		echo top >"$LOWER/opq/top"
		echo top >"$LOWER/src/d2/f0"
	else
		fill_big
	fi
	cp -a "$LOWER" "$ROOT/template"
	local below
	below=$(snapshot "$LOWER2")
	big_job
	local want start end span i t kills=0 midway=0 k
	want=$(shim python3 "$MANIFEST" "$TARGET")
	# one whole commit, timed: the kills fall within its span
	start=$(date +%s%N)
	"$UNIONCTL" commit "${largs[@]}" --upper "$UPPER" --work "$WORK"
	end=$(date +%s%N)
	[ "$(lowers_view)" = "$want" ]
	span=$(((end - start) / 1000))
	[ "$span" -gt 0 ]
	local rounds=${UC_CRASH_ROUNDS:-50}
	i=0
	# at least ROUNDS rounds and ROUNDS kills that landed (at most 3x rounds)
	while { [ "$i" -lt "$rounds" ] || [ "$kills" -lt "$rounds" ]; } && [ "$i" -lt $((3 * rounds)) ]; do
		i=$((i + 1))
		rm -rf "$LOWER" "$UPPER" "$WORK"
		cp -a "$ROOT/template" "$LOWER"
		mkdir "$UPPER" "$WORK"
		big_job
		for k in 1 2 3; do # up to three kills, then a run to the end
			"$UNIONCTL" commit "${largs[@]}" --upper "$UPPER" --work "$WORK" &
			t=$((RANDOM * 32768 + RANDOM))
			t=$((t % (span / k + 1)))
			sleep "$(printf '%d.%06d' $((t / 1000000)) $((t % 1000000)))"
			kill -KILL $! 2>/dev/null && kills=$((kills + 1))
			wait $! || true
			[ -e "$WORK/#commit" ] && midway=$((midway + 1))
		done
		"$UNIONCTL" commit "${largs[@]}" --upper "$UPPER" --work "$WORK"
		[ "$(lowers_view)" = "$want" ] || {
			echo "iteration $i: the lowers differ from the union view"
			diff <(echo "$want") <(lowers_view) | head -20
			false
		}
		[ "$(snapshot "$LOWER2")" = "$below" ]
		[ -z "$(ls -A "$UPPER")" ] && [ -z "$(ls -A "$WORK")" ]
		[ -z "$(find "$LOWER" -name '.#unionctl.*')" ]
	done
	echo "# $i rounds, $kills kills, $midway left a journal behind" >&3
	[ "$kills" -ge "$rounds" ]
	[ "$midway" -ge $((rounds / 2)) ]
}

@test "commit killed with SIGKILL at random moments, run again: the lower is the union view" {
	crash_rounds 1
}

@test "commit onto the topmost of two lowers killed with SIGKILL at random moments, run again: the lowers' union is the union view" {
	crash_rounds 2
}

@test "a user who is not root commits, read-only dirs and all" {
	command -v setpriv >/dev/null || skip "no setpriv"
	local r
	r=$(mktemp -d /tmp/uc-user.XXXXXX)
	chmod 755 "$r"
	mkdir -p "$r/lower/ro" "$r/upper" "$r/work" "$r/target"
	echo old >"$r/lower/ro/f"
	echo x >"$r/lower/gone"
	chown -R nobody: "$r"
	chmod 555 "$r/lower/ro"
	as_nobody() {
		setpriv --reuid=nobody --regid=nogroup --clear-groups env LD_PRELOAD="$SHIM_LIB" \
			UNIONSHIM_MOUNTS="target=$r/target,lowerdir=$r/lower,upperdir=$r/upper,workdir=$r/work" "$@"
	}
	# a read-only dir in the upper: what a build copying a read-only tree makes
	as_nobody sh -c 'cd "$1" && rm gone && mkdir -p new/sub && echo n >new/sub/n && chmod 555 new/sub new' _ "$r/target"
	local before
	before=$(as_nobody python3 "$MANIFEST" "$r/target")
	run setpriv --reuid=nobody --regid=nogroup --clear-groups "$UNIONCTL" commit \
		--lower "$r/lower" --upper "$r/upper" --work "$r/work"
	local got
	got=$(python3 "$MANIFEST" "$r/lower")
	chmod -R u+w "$r"
	rm -rf "$r"
	[ "$status" -eq 0 ]
	[ "$got" = "$before" ]
}

@test "layers that cannot be read: exit 1, one line, nothing changed (--dry-run too)" {
	fill_lower
	job "$TARGET" shim
	mkdir "$UPPER/r"
	setfattr -n trusted.overlay.redirect -v /elsewhere "$UPPER/r" 2>/dev/null ||
		skip "cannot set trusted xattrs here"
	local snap
	snap=$(snapshot "$ROOT")
	run -1 "$UNIONCTL" commit --dry-run --lower "$LOWER" --upper "$UPPER" --work "$WORK"
	[ "${#lines[@]}" -eq 1 ]
	run -1 "$UNIONCTL" commit --lower "$LOWER" --upper "$UPPER" --work "$WORK"
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == "unionctl commit: $UPPER/r: "* ]]
	[ "$(snapshot "$ROOT")" = "$snap" ]
}

# Several lowers: $LOWER (topmost), $LOWER2, and $LOWER3 when N is 3.
multi_make() {
	LOWER3=$ROOT/lower3
	mkdir -p "$LOWER3"
	LOWERS=$LOWER:$LOWER2
	[ "$1" = 2 ] || LOWERS=$LOWERS:$LOWER3
	local bottom=$LOWER2
	[ "$1" = 2 ] || bottom=$LOWER3
	# the bottom: a subtree, names to delete, a name a whiteout hides
	mkdir -p "$bottom/tree/sub" "$bottom/only/deep" "$bottom/dir2file/x" "$bottom/hidden"
	echo t >"$bottom/tree/t"; echo s >"$bottom/tree/sub/s"
	echo o >"$bottom/only/deep/o"; echo x >"$bottom/dir2file/x/x"
	echo gone >"$bottom/bottom-gone"; echo w >"$bottom/was-whited"
	echo w >"$bottom/was-oci"; echo h >"$bottom/hidden/h"
	echo "$L" >"$bottom/$L"
	# the middle (or the bottom of two): more of the same names
	mkdir -p "$LOWER2/tree" "$LOWER2/mid" "$LOWER2/hl"
	echo m >"$LOWER2/tree/m"; echo mid >"$LOWER2/mid-gone"; echo k >"$LOWER2/mid/k"
	echo h1 >"$LOWER2/hl/a"; ln "$LOWER2/hl/a" "$LOWER2/hl/b"
	# the topmost: its own file over a name below, whiteouts of both forms
	mkdir -p "$LOWER/tree"
	echo top >"$LOWER/tree/top"; echo f >"$LOWER/file2dir"
	mknod "$LOWER/was-whited" c 0 0
	: >"$LOWER/.wh.was-oci"
	mkdir -p "$bottom/file2dir"; echo under >"$bottom/file2dir/under"
}

multi_job() {
	LD_PRELOAD=$SHIM_LIB UNIONSHIM_MOUNTS="target=$TARGET,lowerdir=$LOWERS,upperdir=$UPPER,workdir=$WORK" \
		env L="$L" bash -c '
		set -e
		cd "$1"
		[ ! -e was-whited ] && [ ! -e was-oci ] && [ -e hidden/h ]
		rm bottom-gone mid-gone "$L" hidden/h
		rm -r tree; mkdir tree; echo fresh >tree/fresh
		rm -r dir2file; echo now-a-file >dir2file
		rm file2dir; mkdir file2dir; echo in >file2dir/in
		echo back >was-whited; mkdir was-oci; echo in >was-oci/in
		echo new >only/deep/new; rm only/deep/o
		echo more >>hl/a; ln hl/a hl/c
		echo k2 >>mid/k
	' _ "$TARGET"
}

# After a commit onto the topmost, the union of the lowers alone (through
# the shim, and through kernel overlayfs when it mounts) is WANT; the
# lowers below the topmost are unchanged.
multi_check() {
	local want=$1 snap=$2
	[ "$(LD_PRELOAD=$SHIM_LIB UNIONSHIM_MOUNTS="target=$TARGET,lowerdir=$LOWERS" \
		python3 "$MANIFEST" "$TARGET")" = "$want" ] || {
		diff <(echo "$want") <(LD_PRELOAD=$SHIM_LIB UNIONSHIM_MOUNTS="target=$TARGET,lowerdir=$LOWERS" python3 "$MANIFEST" "$TARGET") >&3
		false
	}
	[ "$(snapshot "$LOWER2"; snapshot "$LOWER3")" = "$snap" ]
	[ -z "$(ls -A "$UPPER")" ] && [ -z "$(ls -A "$WORK")" ]
	[ -z "$(find "$LOWER" -name '.#unionctl.*')" ]
	if [ "$(id -u)" = 0 ] && can_mount_overlay; then
		mount -t overlay overlay -o "lowerdir=$LOWERS,upperdir=$UPPER,workdir=$WORK" "$TARGET"
		MOUNTED=$TARGET
		local got
		got=$(python3 "$MANIFEST" "$TARGET")
		umount "$TARGET"
		MOUNTED=
		rm -rf "$WORK"/*
		[ "$got" = "$want" ] || { diff <(echo "$want") <(echo "$got") >&3; false; }
	fi
}

multi_commit() {
	multi_make "$1"
	local want snap
	snap=$(snapshot "$LOWER2"; snapshot "$LOWER3")
	multi_job
	want=$(LD_PRELOAD=$SHIM_LIB UNIONSHIM_MOUNTS="target=$TARGET,lowerdir=$LOWERS,upperdir=$UPPER,workdir=$WORK" \
		python3 "$MANIFEST" "$TARGET")
	local args=(--lower "$LOWER" --lower "$LOWER2")
	[ "$1" = 2 ] || args+=(--lower "$LOWER3")
	run -0 "$UNIONCTL" commit --dry-run "${args[@]}" --upper "$UPPER" --work "$WORK"
	[[ "$output" == *"whiteout bottom-gone"* && "$output" == *"opaque tree"* ]]
	run "$UNIONCTL" commit "${args[@]}" --upper "$UPPER" --work "$WORK"
	[ "$status" = 0 ]
	[ -z "$output" ]
	multi_check "$want" "$snap"
	# the markers are in the topmost: a char 0/0 whiteout for the long name
	[ "$(stat -c '%F %t:%T' "$LOWER/$L")" = "character special file 0:0" ]
	[ ! -e "$LOWER/.wh.was-oci" ] && [ -f "$LOWER/was-whited" ]
}

@test "commit onto the topmost of two lowers: the lowers' union is the union view" {
	multi_commit 2
}

@test "commit onto the topmost of three lowers: the lowers' union is the union view" {
	multi_commit 3
}

@test "an upper with dirs renamed in place (redirect records) is refused: one line, exit 1, nothing changed" {
	fill_lower
	shim sh -c 'cd "$1" && mv e e2 && echo n >new' _ "$TARGET"
	[ -n "$(getfattr -h -n user.unionshim.redirect "$UPPER/e2" 2>/dev/null)" ]
	local snap
	snap=$(snapshot "$ROOT")
	run -1 "$UNIONCTL" commit --lower "$LOWER" --upper "$UPPER" --work "$WORK"
	[ "${#lines[@]}" -eq 1 ]
	[[ $output == "unionctl commit: $UPPER: holds dirs renamed in place"* ]]
	run -1 "$UNIONCTL" commit --dry-run --lower "$LOWER" --upper "$UPPER" --work "$WORK"
	[ "${#lines[@]}" -eq 1 ]
	[ "$(snapshot "$ROOT")" = "$snap" ]
}

@test "a dir renamed away, changed and renamed back commits (its record names its own path, as its error says)" {
	fill_lower
	shim sh -c 'cd "$1" && mv e/sub e/sub2 && echo n >e/sub2/new && mv e/sub2 e/sub && mv o o3 && mv o3 o' _ "$TARGET"
	[ "$(getfattr -h --only-values -n user.unionshim.redirect "$UPPER/e/sub" 2>/dev/null)" = /e/sub ]
	local before
	before=$(shim python3 "$MANIFEST" "$TARGET")
	run -0 "$UNIONCTL" diff --lower "$LOWER" --upper "$UPPER" --work "$WORK"
	[ "$output" = "A e/sub/new" ]
	run -0 "$UNIONCTL" commit --lower "$LOWER" --upper "$UPPER" --work "$WORK"
	check_committed "$before"
}
