#!/usr/bin/env bats
# Promise (semantics.md "Identity", "Hard links", "Lower layers stay
# untouched"): every object of a mount reports the mount's own st_dev (one
# value, not a layer's); st_ino never changes (not on copy-up by chmod,
# append, touch or a create inside a lower-only dir, not between processes,
# not between runs) and no two objects share one unless they are hard
# links; d_ino from readdir/getdents64 (and so `ls -i`) equals st_ino;
# fstat on an fd equals stat on its path, also for an fd opened before a
# copy-up; names that are hard links of one lower inode stay one file after
# any of them is copied up (also when two processes copy up two of the
# names at once), and removing one leaves the other with st_nlink 1;
# link() of a lower file joins its identity; no lower dir ever changes.
#
# Each scenario is written once, as sc_NAME T X: T is the union dir and X
# runs commands in it (in_shim: under the shim with its target at T;
# in_ovl: directly in a kernel overlayfs mount of the same layers at T,
# with index=on,xino=on). Each runs twice: "(shim)" never skips;
# "(overlayfs oracle)" skips where overlayfs cannot be mounted, and shows
# that the scenario asks only what the kernel does.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/itest
load ../lib/copyup

OVL_OPTS=index=on,xino=on

setup() {
	make_layers
	P=$(probe identity_probe)
	TMPFS=()
	OVL_UP=
}

teardown() {
	local m
	if [ -n "$OVL_UP" ] && mountpoint -q "$TARGET"; then
		umount "$TARGET" || umount -l "$TARGET"
	fi
	for m in "${TMPFS[@]}"; do
		umount "$m" || umount -l "$m"
	done
}

# ---- the two runners: X CMD... runs CMD in the union at $TARGET; X --start
# brings the union up once the layers are filled; X --restart begins a new
# run over the same layers (overlayfs: a new mount; shim: nothing to do,
# every command is a new process with nothing but the layers in common).

in_shim() {
	case $1 in
	--start | --restart) ;;
	*) in_union "$@" ;;
	esac
}

in_ovl() {
	case $1 in
	--start) ovl_mount ;;
	--restart) umount "$TARGET" && ovl_mount ;;
	*) "$@" ;;
	esac
}

ovl_mount() {
	local e
	e=$(mount -t overlay overlay \
		-o "lowerdir=$LOWER:$LOWER2,upperdir=$UPPER,workdir=$WORK,$OVL_OPTS" "$TARGET" 2>&1) ||
		skip "overlayfs refused $OVL_OPTS here: $e"
	OVL_UP=1
}

# begin X: note the lower layers, then bring up the union.
begin() {
	LOWER_BEFORE=$(lower_state)
	"$1" --start
}

# Put each lower dir on a tmpfs of its own (two filesystems that number
# their inodes alike, so real inode numbers collide across the layers).
# Without mounts the lowers stay where they are: the shim half still runs.
lowers_on_tmpfs() {
	local d
	for d in "$LOWER" "$LOWER2"; do
		if mount -t tmpfs -o size=32m tmpfs "$d" 2>/dev/null; then
			TMPFS+=("$d")
		fi
	done
	[ "${#TMPFS[@]}" -eq 2 ] || echo "note: no tmpfs here; the lowers share one filesystem"
}

# ---- checks: each names the promise it found broken

broken() {
	echo "BROKEN PROMISE: $1"
	shift
	[ $# -eq 0 ] || printf '%s\n' "$@"
	return 1
}

# keeps PROMISE EXPECTED ACTUAL
keeps() {
	[ "$2" != "$3" ] || return 0
	echo "BROKEN PROMISE: $1"
	echo "--- expected / +++ got:"
	diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") || true
	return 1
}

# holds PROMISE CMD...: CMD (a probe checking PROMISE) must exit 0
holds() {
	local promise=$1
	shift
	run "$@"
	[ "$status" -ne 0 ] || return 0
	echo "BROKEN PROMISE: $promise"
	echo "$*: status $status"
	printf '%s\n' "$output"
	return 1
}

# ok CMD...: must succeed
ok() {
	run --separate-stderr "$@"
	[ "$status" -ne 0 ] || return 0
	echo "$*: status $status, output: $output, stderr: $stderr"
	return 1
}

# inos X T NAME...: "INO NAME" for each NAME under T, from one stat
inos() {
	local x=$1 t=$2 out
	shift 2
	out=$($x stat -c '%i %n' "${@/#/$t/}") || return 1
	printf '%s\n' "${out//$t\//}"
}

# all_paths X T: every path of the union at T, T itself first
all_paths() {
	$1 find "$2" | LC_ALL=C sort
}

# unique X T PHASE GROUP...: one st_dev for every object of the union at T,
# and no st_ino shared unless by names of one hard-linked file (each
# GROUP: the space-separated names, relative to T, of one such file; they
# are allowed to share, not required to).
unique() {
	local x=$1 t=$2 phase=$3 paths list devs bad fail=0
	shift 3
	paths=$(all_paths "$x" "$t")
	list=$($x "$P" ids $paths)
	list=${list//$t\//}
	devs=$(awk '{ print $1 }' <<<"$list" | sort -u)
	bad=$(awk -v groups="$(printf '%s\n' "$@")" '
		BEGIN {
			n = split(groups, g, "\n")
			for (i = 1; i <= n; i++) {
				m = split(g[i], p, " ")
				for (j = 1; j <= m; j++) grp[p[j]] = i
			}
		}
		{
			ino = $2; path = $6
			gid = (path in grp) ? grp[path] : "alone:" path
			paths[ino] = paths[ino] " " path
			if (ino in first) {
				if (first[ino] != gid) bad[ino] = 1
			} else first[ino] = gid
		}
		END { for (i in bad) print "st_ino " i " is shared by" paths[i] }' <<<"$list")
	# report both before failing: on tmpfs lowers each explains the other
	[ "$(wc -l <<<"$devs")" -eq 1 ] ||
		broken "every object of a mount reports one st_dev ($phase)" \
			"DEV INO NLINK SIZE TYPE PATH" "$list" || fail=1
	[ -z "$bad" ] ||
		broken "no two objects of a mount share an st_ino unless they are hard links ($phase)" \
			"$bad" || fail=1
	return "$fail"
}

# ---- layer stacks

# mixed: files, dirs, symlinks and a fifo in the upper and both lowers,
# merged dirs, a lower file hiding a lower2 one, a lower hard-link pair.
fill_mixed() {
	mkdir -p "$LOWER/ldir/sub" "$LOWER/m/both" "$LOWER2/l2dir" "$LOWER2/m/both" \
		"$UPPER/udir" "$UPPER/m"
	echo lf >"$LOWER/lf"
	echo hidden >"$LOWER2/lf"
	echo f >"$LOWER/ldir/f"
	echo deep >"$LOWER/ldir/sub/deep"
	ln -s lf "$LOWER/lsym"
	mkfifo "$LOWER/lfifo"
	echo l2f >"$LOWER2/l2f"
	echo g >"$LOWER2/l2dir/g"
	ln -s l2dir "$LOWER2/l2sym"
	echo uf >"$UPPER/uf"
	echo h >"$UPPER/udir/h"
	ln -s uf "$UPPER/usym"
	echo a >"$LOWER/m/from_lower"
	echo b >"$LOWER2/m/from_lower2"
	echo c >"$UPPER/m/from_upper"
	echo x >"$LOWER/m/both/x"
	echo y >"$LOWER2/m/both/y"
	echo hl >"$LOWER/m/hl1"
	ln "$LOWER/m/hl1" "$LOWER/m/hl2"
}

# Copy-ups and creates over fill_mixed, each in its own process.
change_mixed() {
	local x=$1 t=$2
	ok $x chmod 600 "$t/lf"
	ok $x sh -c 'echo more >>"$1"' _ "$t/l2f"
	ok $x touch "$t/ldir/sub/new"
	ok $x touch -h "$t/l2sym"
	ok $x mkdir "$t/m/both/newdir"
	ok $x sh -c 'echo more >>"$1"' _ "$t/m/from_lower"
	ok $x sh -c 'echo more >>"$1"' _ "$t/m/hl1"
	ok $x sh -c 'echo new >"$1"' _ "$t/m/created"
}

# many: the same tree made in the same order in both lowers (on tmpfs the
# real inode numbers then collide name for name), upper files, a lower
# hard-link pair.
fill_many() {
	local n=0 L i
	for L in "$LOWER" "$LOWER2"; do
		n=$((n + 1))
		mkdir -p "$L/a/sub" "$L/only_$n"
		for i in $(seq 1 12); do echo "$n $i" >"$L/a/f_${n}_$i"; done
		for i in 1 2 3; do echo "$n $i" >"$L/a/sub/s_${n}_$i"; done
		echo "$n" >"$L/only_$n/x"
		ln -s a "$L/sym_$n"
	done
	mkdir -p "$LOWER/hl" "$UPPER/a" "$UPPER/udir"
	echo hl >"$LOWER/hl/A"
	ln "$LOWER/hl/A" "$LOWER/hl/B"
	for i in 1 2 3; do echo "u $i" >"$UPPER/a/u_$i"; done
	echo v >"$UPPER/udir/v"
}

# ---- scenarios

# 1. One st_dev, the mount's own.
sc_one_dev() {
	local t=$1 x=$2 phase paths list devs d real
	fill_mixed
	begin "$x"
	for phase in "before copy-up" "after copy-ups and creates"; do
		paths=$(all_paths "$x" "$t")
		list=$($x "$P" ids $paths)
		list+=$'\n'$($x "$P" ids -L "$t/lsym" "$t/l2sym" "$t/usym")
		devs=$(awk '{ print $1 }' <<<"$list" | sort -u)
		[ "$(wc -l <<<"$devs")" -eq 1 ] ||
			broken "every object of a mount reports one st_dev, by stat and lstat ($phase)" \
				"DEV INO NLINK SIZE TYPE PATH" "$list"
		for d in "$LOWER" "$LOWER2" "$UPPER"; do
			real=$(stat -c %d "$d")
			[ "$devs" != "$real" ] ||
				broken "every object reports the mount's own st_dev, not its layers' ($phase)" \
					"the mount reports st_dev $devs, the real st_dev of $d"
		done
		[ "$phase" != "before copy-up" ] || change_mixed "$x" "$t"
	done
	lower_unchanged
}

# The one-process copy-ups of sc_keep_in_process and sc_old_fd: lower
# files (top and bottom lower) and lower-only dirs.
fill_keep() {
	local f
	mkdir -p "$LOWER/c/deep/er" "$LOWER/c/dmod" "$LOWER2/c" "$LOWER2/c2only"
	for f in app mod tch lnk; do echo "$f" >"$LOWER/c/$f"; done
	echo l2 >"$LOWER2/c/l2app"
	echo in >"$LOWER2/c2only/f"
	echo e >"$LOWER/c/deep/er/f"
}

# keep_ops X T PROMISE [--ino-only]: each copy-up trigger, run by
# `identity_probe keep` in one process that checks PROMISE.
keep_ops() {
	local x=$1 t=$2 what=$3 bad=0
	shift 3
	holds "$what: copy-up by an O_APPEND write" \
		$x "$P" keep "$@" append "$t/c/app" "more" || bad=1
	holds "$what: copy-up of a lower2 file by an O_APPEND write" \
		$x "$P" keep "$@" append "$t/c/l2app" "more" || bad=1
	holds "$what: copy-up by chmod" \
		$x "$P" keep "$@" chmod "$t/c/mod" 600 || bad=1
	holds "$what: copy-up by touch" \
		$x "$P" keep "$@" touch "$t/c/tch" || bad=1
	holds "$what: a lower2-only dir copied up by a create inside it" \
		$x "$P" keep "$@" create "$t/c2only" new || bad=1
	holds "$what: a nested lower-only dir copied up by a create inside it" \
		$x "$P" keep "$@" create "$t/c/deep/er" new || bad=1
	holds "$what: a dir copied up by chmod" \
		$x "$P" keep "$@" chmod "$t/c/dmod" 700 || bad=1
	holds "$what: copy-up by link() of a lower file" \
		$x "$P" keep "$@" link "$t/c/lnk" "$t/c/lnk2" || bad=1
	[ "$bad" -eq 0 ]
}

# 2a. st_ino kept by copy-up, seen in the one process that copies up: by
# lstat, and by fstat of an fd opened before and of the fd that wrote.
sc_keep_in_process() {
	local t=$1 x=$2
	fill_keep
	begin "$x"
	keep_ops "$x" "$t" "st_ino never changes (lstat, fstat of fds opened before and by the copy-up; one process)" \
		--ino-only
	lower_unchanged
}

# 2c. st_ino kept by copy-up of objects that cannot carry user xattrs: a
# symlink (chown -h), a fifo (chmod), a symlink renamed (copy-up, then
# rename); a symlink made after one was removed gets a number of its own.
sc_keep_special() {
	local t=$1 x=$2 before after
	mkdir -p "$LOWER/s"
	ln -s target "$LOWER/s/ln"
	ln -s other "$LOWER/s/mv"
	mkfifo "$LOWER/s/fifo"
	begin "$x"
	before=$(inos "$x" "$t" s/ln s/mv s/fifo) || return 1
	ok $x chown -h 1:1 "$t/s/ln" || return 1
	ok $x chmod 600 "$t/s/fifo" || return 1
	ok $x mv "$t/s/mv" "$t/s/moved" || return 1
	after=$(inos "$x" "$t" s/ln s/moved s/fifo) || return 1
	keeps "st_ino never changes: a symlink (chown -h), a renamed symlink and a fifo (chmod) keep theirs through copy-up" \
		"$(echo "$before" | sed 's| s/mv$| s/moved|')" "$after" || return 1
	"$x" --restart
	keeps "st_ino never changes: the copied-up symlink and fifo keep theirs in a later run" \
		"$after" "$(inos "$x" "$t" s/ln s/moved s/fifo)" || return 1
	ok $x rm "$t/s/ln" || return 1
	ok $x ln -s new "$t/s/ln2" || return 1
	local old new
	old=$(echo "$after" | awk '$2 == "s/ln" {print $1}')
	new=$(inos "$x" "$t" s/ln2 | awk '{print $1}')
	[ "$old" != "$new" ] || broken "no two objects share st_ino: a new symlink took the number of a removed one" || return 1
	lower_unchanged
}

# 2b. st_ino kept across processes and runs, copy-ups in between.
sc_keep_across() {
	local t=$1 x=$2 f n names i0 isep i1 n1 i2 n2 i3
	mkdir -p "$LOWER/d/sub" "$LOWER2/d" "$LOWER2/d2" "$UPPER/d"
	for f in f1 f2 f3 f4; do echo "$f" >"$LOWER/d/$f"; done
	echo s >"$LOWER/d/sub/s"
	echo g >"$LOWER2/d/g"
	echo z >"$LOWER2/d2/z"
	echo u >"$UPPER/d/u"
	begin "$x"
	names=(d d/f1 d/f2 d/f3 d/f4 d/g d/sub d/sub/s d2 d2/z d/u)
	i0=$(inos "$x" "$t" "${names[@]}")
	isep=$(for n in "${names[@]}"; do inos "$x" "$t" "$n"; done)
	keeps "st_ino never changes: every process sees one st_ino per object" "$i0" "$isep"

	ok $x chmod 640 "$t/d/f1"
	ok $x sh -c 'echo more >>"$1"' _ "$t/d/f2"
	ok $x touch "$t/d/f3"
	ok $x touch "$t/d/sub/new"
	ok $x sh -c 'echo more >>"$1"' _ "$t/d/g"
	ok $x touch "$t/d2/new"
	ok $x mkdir "$t/d/newdir"
	ok $x sh -c 'echo n >"$1"' _ "$t/d/created"
	i1=$(for n in "${names[@]}"; do inos "$x" "$t" "$n"; done)
	keeps "st_ino never changes: not on copy-up (chmod, >>, touch, a create in a lower-only dir), as later processes see it" \
		"$i0" "$i1"
	n1=$(inos "$x" "$t" d/newdir d/created d/sub/new d2/new)

	$x --restart
	i2=$(inos "$x" "$t" "${names[@]}")
	keeps "st_ino never changes: not between runs (copy-ups done in an earlier run)" "$i0" "$i2"
	n2=$(inos "$x" "$t" d/newdir d/created d/sub/new d2/new)
	keeps "st_ino never changes: objects created in an earlier run keep theirs in a new run" "$n1" "$n2"

	ok $x sh -c 'echo more >>"$1"' _ "$t/d/f4"
	$x --restart
	i3=$(inos "$x" "$t" "${names[@]}")
	keeps "st_ino never changes: a copy-up in a later run keeps the st_ino of earlier runs" "$i0" "$i3"
	lower_unchanged
}

# 2c. st_ino kept when a copy moves (rename, link) into a dir that never
# held one: a dir made in the union, an upper dir made by hand. A process
# reads a copy's origin record only in dirs one may have entered.
sc_keep_moved() {
	local t=$1 x=$2 before after
	mkdir -p "$LOWER/d" "$UPPER/u" "$UPPER/v"
	for f in f1 f2 f3 f4; do echo "$f" >"$LOWER/d/$f"; done
	ln -s target "$LOWER/d/sym"
	echo u >"$UPPER/u/own"
	echo v >"$UPPER/v/own"
	begin "$x"
	before=$(inos "$x" "$t" d/f1 d/f2 d/f3 d/f4 d/sym) || return 1
	ok $x chmod 640 "$t/d/f1" "$t/d/f2" || return 1
	ok $x chown -h 1:1 "$t/d/sym" || return 1
	ok $x mkdir "$t/new" || return 1
	ok $x mv "$t/d/f1" "$t/new/f1" || return 1
	ok $x mv "$t/d/f3" "$t/new/f3" || return 1
	ok $x ln "$t/d/f2" "$t/v/f2" || return 1
	ok $x mv "$t/d/f4" "$t/u/f4" || return 1
	ok $x mv "$t/d/sym" "$t/u/sym" || return 1
	after=$(for n in new/f1 v/f2 new/f3 u/f4 u/sym; do inos "$x" "$t" "$n"; done)
	keeps "st_ino never changes: copies renamed or linked into a new dir and an upper-only dir keep theirs, as later processes see it" \
		"$(echo "$before" | sed 's| d/f1$| new/f1|; s| d/f2$| v/f2|; s| d/f3$| new/f3|; s| d/f4$| u/f4|; s| d/sym$| u/sym|')" \
		"$after" || return 1
	"$x" --restart
	keeps "st_ino never changes: the moved copies keep theirs in a later run" \
		"$after" "$(inos "$x" "$t" new/f1 v/f2 new/f3 u/f4 u/sym)" || return 1
	holds "d_ino from readdir/getdents64 equals lstat's st_ino in the dirs the copies moved to" \
		$x "$P" dino "$t/new" "$t/u" "$t/v" || return 1
	lower_unchanged
}

# 3. No shared st_ino but hard links, before and after copy-ups and creates.
sc_unique() {
	local t=$1 x=$2
	fill_many
	begin "$x"
	unique "$x" "$t" "before copy-up" "hl/A hl/B"
	ok $x chmod 600 "$t/a/f_1_1"
	ok $x sh -c 'echo more >>"$1"' _ "$t/a/f_2_1"
	ok $x touch "$t/a/sub/new" "$t/only_2/new"
	ok $x mkdir "$t/a/newdir" "$t/newtop"
	ok $x sh -c 'for i in 1 2 3 4 5 6; do echo $i >"$1/new_$i"; done' _ "$t/a"
	ok $x sh -c 'echo more >>"$1"' _ "$t/hl/A"
	ok $x ln "$t/a/f_1_2" "$t/a/link_1_2"
	ok $x ln "$t/a/f_2_2" "$t/newtop/link_2_2"
	ok $x touch -h "$t/sym_1" "$t/sym_2"
	unique "$x" "$t" "after copy-ups and creates" "hl/A hl/B" "a/f_1_2 a/link_1_2" \
		"a/f_2_2 newtop/link_2_2"
	lower_unchanged
}

# 4. d_ino equals st_ino for every entry of merged dirs, by the probe
# (readdir, getdents64) and by tools (ls -i, find %i vs stat). Every name
# is looked up once first: kernel overlayfs records a merged dir's origin
# (an xattr in the upper dir) at its first lookup, and until then a
# readdir answers the upper dir's own inode for it (sc_dino_cold, shim
# only, asks for the right d_ino before any lookup).
sc_dino() {
	local t=$1 x=$2 phase d dirs lsi statd findi
	fill_mixed
	begin "$x"
	$x find "$t" >/dev/null
	for phase in "before copy-up" "after copy-ups and creates"; do
		dirs=("$t" "$t/m" "$t/m/both" "$t/ldir" "$t/ldir/sub" "$t/l2dir" "$t/udir")
		holds "d_ino from readdir/getdents64 equals lstat's st_ino for every entry ($phase)" \
			$x "$P" dino "${dirs[@]}"
		for d in "${dirs[@]}"; do
			lsi=$($x ls -i1 "$d" | awk '{ print $1, $2 }' | LC_ALL=C sort -k2)
			statd=$($x bash -c 'cd "$1" && stat -c "%i %n" -- *' _ "$d" | LC_ALL=C sort -k2)
			findi=$($x find "$d" -mindepth 1 -maxdepth 1 -printf '%i %f\n' | LC_ALL=C sort -k2)
			keeps "ls -i (d_ino) shows each entry's st_ino in ${d#"$t"}/ ($phase)" "$statd" "$lsi"
			keeps "find -printf %i shows each entry's st_ino in ${d#"$t"}/ ($phase)" "$statd" "$findi"
		done
		[ "$phase" != "before copy-up" ] || change_mixed "$x" "$t"
	done
	lower_unchanged
}

# 4b. d_ino equals st_ino at the first readdir of a new run, before any
# name was looked up, for merged dirs made by hand (no overlayfs origin
# xattr, as in an upper written by the shim). Not asked of overlayfs.
sc_dino_cold() {
	local t=$1 x=$2
	fill_mixed
	mkdir -p "$UPPER/ldir/sub" "$UPPER/l2dir"
	begin "$x"
	holds "d_ino from readdir/getdents64 equals lstat's st_ino, from the first readdir on" \
		$x "$P" dino "$t" "$t/m" "$t/ldir" "$t/ldir/sub" "$t/l2dir"
	lower_unchanged
}

# 5. fstat on an fd equals stat on its path, for every object.
sc_fdstat() {
	local t=$1 x=$2 phase paths
	fill_mixed
	begin "$x"
	for phase in "before copy-up" "after copy-ups and creates"; do
		paths=$(all_paths "$x" "$t")
		holds "fstat on an fd (and fstatat, statx) equals stat on its path ($phase)" \
			$x "$P" fdstat $paths
		[ "$phase" != "before copy-up" ] || change_mixed "$x" "$t"
	done
	lower_unchanged
}

# 5b. An fd opened before a copy-up: its fstat equals stat on its path
# after it, st_nlink and st_size included.
sc_old_fd() {
	local t=$1 x=$2
	fill_keep
	begin "$x"
	keep_ops "$x" "$t" "fstat of an fd opened before a copy-up equals stat on its path after it (dev, ino, nlink, size; one process)"
	lower_unchanged
}

# linked X T DIR FIRST SECOND INO DATA PHASE: DIR/FIRST and DIR/SECOND are
# one file: the same data DATA (a write through one is read through the
# other), one st_ino INO (the one from before any copy-up), st_nlink 2;
# tar stores SECOND as a link to FIRST; find -samefile finds both.
linked() {
	local x=$1 t=$2 dir=$3 a=$4 b=$5 ino=$6 data=$7 phase=$8 tarlist
	keeps "a write through one hard link is read through the other: $b ($phase)" \
		"$data" "$($x cat "$t/$dir/$b")"
	keeps "a write through one hard link is read through the other: $a ($phase)" \
		"$data" "$($x cat "$t/$dir/$a")"
	keeps "hard links report one st_ino, the one from before copy-up, and st_nlink 2 ($phase)" \
		"$ino 2 $dir/$a
$ino 2 $dir/$b" "$($x stat -c "%i %h %n" "$t/$dir/$a" "$t/$dir/$b" | sed "s#$t/##")"
	tarlist=$($x tar -C "$t/$dir" -cf - "$a" "$b" | tar -tvf -)
	[[ "$tarlist" == *"$b link to $a"* ]] ||
		broken "tar sees hard links as one file: $b should be archived as a link to $a ($phase)" "$tarlist"
	keeps "find -samefile finds every name of a hard-linked file ($phase)" \
		"$(printf '%s\n' "$t/$dir/$a" "$t/$dir/$b" | LC_ALL=C sort)" \
		"$($x find "$t/$dir" -samefile "$t/$dir/$a" | LC_ALL=C sort)"
}

# 6a. A hard-link pair, appended through A; then B removed.
sc_links_a_first() {
	local t=$1 x=$2 i0 data
	mkdir -p "$LOWER/h"
	echo "hard link data" >"$LOWER/h/A"
	ln "$LOWER/h/A" "$LOWER/h/B"
	echo other >"$LOWER/h/other"
	begin "$x"
	i0=$($x stat -c %i "$t/h/A")
	keeps "hard links of one lower inode are one object before any copy-up" \
		"$i0 2
$i0 2" "$($x stat -c '%i %h' "$t/h/A" "$t/h/B")"
	ok $x sh -c 'echo "appended via A" >>"$1"' _ "$t/h/A"
	data=$'hard link data\nappended via A'
	linked "$x" "$t" h A B "$i0" "$data" "after an append through A copied it up"
	$x --restart
	linked "$x" "$t" h A B "$i0" "$data" "in a new run"
	ok $x rm "$t/h/B"
	keeps "removing one of two hard links leaves the other with st_nlink 1, its st_ino and data" \
		"$i0 1 $data" "$($x stat -c '%i %h' "$t/h/A") $($x cat "$t/h/A")"
	lower_unchanged
}

# 6b. The other order: appended through B; and a second pair whose one
# name is removed before any copy-up.
sc_links_b_first() {
	local t=$1 x=$2 i0 j0 data
	mkdir -p "$LOWER/i"
	echo "hard link data" >"$LOWER/i/A"
	ln "$LOWER/i/A" "$LOWER/i/B"
	echo "second pair" >"$LOWER/i/C"
	ln "$LOWER/i/C" "$LOWER/i/D"
	begin "$x"
	i0=$($x stat -c %i "$t/i/B")
	j0=$($x stat -c %i "$t/i/D")
	ok $x sh -c 'echo "appended via B" >>"$1"' _ "$t/i/B"
	data=$'hard link data\nappended via B'
	linked "$x" "$t" i B A "$i0" "$data" "after an append through B copied it up"
	ok $x rm "$t/i/C"
	keeps "removing one of two lower hard links (no copy-up before) leaves the other with st_nlink 1 and its st_ino" \
		"$j0 1 second pair" "$($x stat -c '%i %h' "$t/i/D") $($x cat "$t/i/D")"
	$x --restart
	keeps "a removed hard link stays removed: the other keeps st_nlink 1 in a new run" \
		"$j0 1" "$($x stat -c '%i %h' "$t/i/D")"
	linked "$x" "$t" i B A "$i0" "$data" "in a new run"
	lower_unchanged
}

# 7. link() of a lower file joins its identity.
sc_link_lower() {
	local t=$1 x=$2 i0 g0 want
	mkdir -p "$LOWER/j" "$LOWER2/j2"
	echo "lower data" >"$LOWER/j/f"
	echo "lower2 data" >"$LOWER2/j2/g"
	echo k >"$LOWER/j/k"
	begin "$x"
	i0=$($x stat -c %i "$t/j/f")
	g0=$($x stat -c %i "$t/j2/g")
	ok $x ln "$t/j/f" "$t/j/new"
	want="$i0 2 j/f
$i0 2 j/new"
	keeps "link() of a lower file joins its identity: both names report its st_ino, st_nlink 2" \
		"$want" "$($x stat -c '%i %h %n' "$t/j/f" "$t/j/new" | sed "s#$t/##")"
	ok $x sh -c 'echo "via new" >>"$1"' _ "$t/j/new"
	keeps "link() of a lower file: a write through the new name is read through the old" \
		$'lower data\nvia new' "$($x cat "$t/j/f")"
	ok $x sh -c 'echo "via f" >>"$1"' _ "$t/j/f"
	keeps "link() of a lower file: a write through the old name is read through the new" \
		$'lower data\nvia new\nvia f' "$($x cat "$t/j/new")"
	ok $x mkdir "$t/newd"
	ok $x ln "$t/j2/g" "$t/newd/g2"
	keeps "link() of a lower2 file into a new dir joins its identity" \
		"$g0 2 j2/g
$g0 2 newd/g2" "$($x stat -c '%i %h %n' "$t/j2/g" "$t/newd/g2" | sed "s#$t/##")"
	holds "link() of a lower file joins its identity (one process: lstat, old fd, new name)" \
		$x "$P" keep --ino-only link "$t/j/k" "$t/j/k2"
	$x --restart
	keeps "link() of a lower file: the names stay one file in a new run" \
		"$want
$g0 2 j2/g
$g0 2 newd/g2" "$($x stat -c '%i %h %n' "$t/j/f" "$t/j/new" "$t/j2/g" "$t/newd/g2" | sed "s#$t/##")"
	[ ! -e "$LOWER/j/new" ] || broken "link() writes no lower dir: $LOWER/j/new exists"
	[ ! -e "$LOWER2/newd" ] || broken "link() writes no lower dir: $LOWER2/newd exists"
	lower_unchanged
}

# 8. Two processes at once copy up two hard links of one 64 MiB lower file.
sc_link_race() {
	local t=$1 x=$2 i0 sz barrier pa pb fail=0 n ups=() want
	mkdir -p "$LOWER/r"
	head -c 64M /dev/urandom >"$LOWER/r/A"
	ln "$LOWER/r/A" "$LOWER/r/B"
	sz=$(stat -c %s "$LOWER/r/A")
	begin "$x"
	i0=$($x stat -c %i "$t/r/A")
	barrier=$BATS_TEST_TMPDIR/go
	$x "$(probe copyup_race)" "$barrier" append "$t/r/A" "line via A" &
	pa=$!
	$x "$(probe copyup_race)" "$barrier" append "$t/r/B" "line via B" &
	pb=$!
	sleep 0.3 # both started and polling
	: >"$barrier"
	wait "$pa" || fail=1
	wait "$pb" || fail=1
	[ "$fail" -eq 0 ] || broken "both appends succeed"
	# sums, not cmp: GNU cmp calls two names with one st_dev/st_ino equal
	# without reading them
	keeps "hard links copied up at once by two processes show one content" \
		"$($x cat "$t/r/A" | sha256sum)" "$($x cat "$t/r/B" | sha256sum)"
	want=$'line via A\nline via B'
	keeps "hard links copied up at once by two processes keep both appends" \
		"$want" "$($x tail -c +$((sz + 1)) "$t/r/A" | LC_ALL=C sort)"
	$x head -c "$sz" "$t/r/B" | cmp - "$LOWER/r/A" ||
		broken "hard links copied up at once keep the whole lower data"
	keeps "hard links copied up at once by two processes keep one st_ino, st_nlink 2" \
		"$i0 2
$i0 2" "$($x stat -c '%i %h' "$t/r/A" "$t/r/B")"
	for n in A B; do
		[ ! -e "$UPPER/r/$n" ] || ups+=("$UPPER/r/$n")
	done
	[ "${#ups[@]}" -ge 1 ] || broken "a copied-up hard link lands in the upper dir" "$(upper_names)"
	for n in "${ups[@]}"; do
		[ "$(stat -c %h "$n")" -ge 2 ] ||
			broken "the upper dir holds copied-up hard links as one inode: $n has st_nlink 1" \
				"$(cd "$UPPER" && find . -printf '%i %n %p\n')"
	done
	[ "${#ups[@]}" -lt 2 ] || [ "$(stat -c %i "${ups[0]}")" = "$(stat -c %i "${ups[1]}")" ] ||
		broken "the upper dir holds copied-up hard links as one inode: A and B differ" \
			"$(cd "$UPPER" && find . -printf '%i %n %p\n')"
	lower_unchanged
}

# ---- the tests: each scenario under the shim, then on kernel overlayfs

@test "one st_dev for every object, by stat and lstat, and not a layer's own (shim)" {
	sc_one_dev "$TARGET" in_shim
}

@test "one st_dev for every object, by stat and lstat, and not a layer's own (overlayfs oracle)" {
	need_overlay
	sc_one_dev "$TARGET" in_ovl
}

@test "st_ino is kept by copy-up (append, chmod, touch, create inside a dir, link), in the process that copies up, by lstat and fstat (shim)" {
	sc_keep_in_process "$TARGET" in_shim
}

@test "st_ino is kept by copy-up (append, chmod, touch, create inside a dir, link), in the process that copies up, by lstat and fstat (overlayfs oracle)" {
	need_overlay
	sc_keep_in_process "$TARGET" in_ovl
}

@test "st_ino of symlinks and fifos is kept by copy-up and rename, and not passed on to a new symlink (shim)" {
	sc_keep_special "$TARGET" in_shim
}

@test "st_ino of symlinks and fifos is kept by copy-up and rename, and not passed on to a new symlink (overlayfs oracle)" {
	need_overlay
	sc_keep_special "$TARGET" in_ovl
}

@test "st_ino is kept when a copy is renamed or linked into a dir that never held one, in later processes and runs, d_ino too (shim)" {
	sc_keep_moved "$TARGET" in_shim
}

@test "st_ino is kept when a copy is renamed or linked into a dir that never held one, in later processes and runs, d_ino too (overlayfs oracle)" {
	need_overlay
	sc_keep_moved "$TARGET" in_ovl
}

@test "st_ino is kept across processes and runs, before and after copy-ups (shim)" {
	sc_keep_across "$TARGET" in_shim
}

@test "st_ino is kept across processes and runs, before and after copy-ups (overlayfs oracle)" {
	need_overlay
	sc_keep_across "$TARGET" in_ovl
}

@test "no two objects share st_ino unless hard links, before and after copy-ups and creates (shim)" {
	sc_unique "$TARGET" in_shim
}

@test "no two objects share st_ino unless hard links, before and after copy-ups and creates (overlayfs oracle)" {
	need_overlay
	sc_unique "$TARGET" in_ovl
}

@test "one st_dev and no shared st_ino with the lowers on two tmpfs whose inode numbers collide (shim)" {
	lowers_on_tmpfs
	sc_unique "$TARGET" in_shim
}

@test "one st_dev and no shared st_ino with the lowers on two tmpfs whose inode numbers collide (overlayfs oracle)" {
	need_overlay
	lowers_on_tmpfs
	sc_unique "$TARGET" in_ovl
}

@test "d_ino from readdir, getdents64, ls -i and find %i equals st_ino in merged dirs (shim)" {
	sc_dino "$TARGET" in_shim
}

@test "d_ino from readdir, getdents64, ls -i and find %i equals st_ino in merged dirs (overlayfs oracle)" {
	need_overlay
	sc_dino "$TARGET" in_ovl
}

# Kernel overlayfs fails this one (see sc_dino): no oracle.
@test "d_ino equals st_ino at the first readdir, before any lookup, in merged dirs with a hand-made upper (shim)" {
	sc_dino_cold "$TARGET" in_shim
}

@test "fstat on an fd equals stat on its path for every object (shim)" {
	sc_fdstat "$TARGET" in_shim
}

@test "fstat on an fd equals stat on its path for every object (overlayfs oracle)" {
	need_overlay
	sc_fdstat "$TARGET" in_ovl
}

@test "fstat of an fd opened before a copy-up equals stat on its path after it, st_nlink and st_size too (shim)" {
	sc_old_fd "$TARGET" in_shim
}

@test "fstat of an fd opened before a copy-up equals stat on its path after it, st_nlink and st_size too (overlayfs oracle)" {
	need_overlay
	sc_old_fd "$TARGET" in_ovl
}

@test "lower hard links stay one file after an append through the first; removing one leaves st_nlink 1 (shim)" {
	sc_links_a_first "$TARGET" in_shim
}

@test "lower hard links stay one file after an append through the first; removing one leaves st_nlink 1 (overlayfs oracle)" {
	need_overlay
	sc_links_a_first "$TARGET" in_ovl
}

@test "lower hard links stay one file after an append through the second; removing one before copy-up leaves st_nlink 1 (shim)" {
	sc_links_b_first "$TARGET" in_shim
}

@test "lower hard links stay one file after an append through the second; removing one before copy-up leaves st_nlink 1 (overlayfs oracle)" {
	need_overlay
	sc_links_b_first "$TARGET" in_ovl
}

@test "link() of a lower file joins its identity (shim)" {
	sc_link_lower "$TARGET" in_shim
}

@test "link() of a lower file joins its identity (overlayfs oracle)" {
	need_overlay
	sc_link_lower "$TARGET" in_ovl
}

@test "two processes copying up two hard links of one 64 MiB lower file at once leave one file (shim)" {
	sc_link_race "$TARGET" in_shim
}

@test "two processes copying up two hard links of one 64 MiB lower file at once leave one file (overlayfs oracle)" {
	need_overlay
	sc_link_race "$TARGET" in_ovl
}

# Every layer on one filesystem: st_ino is the origin's own inode number,
# as overlayfs numbers there (programs sort listings by it: cp -a). Each
# number is shown as the real object that has it in the layers.
sc_samefs_numbers() {
	local u=$1 X=$2
	mkdir -p "$LOWER/d" "$LOWER2/d"
	echo a >"$LOWER/d/a"
	echo b >"$LOWER2/d/b"
	echo c >"$UPPER/c" # (a hand-made upper dir over a lower one: sc_dino)
	ln -s a "$LOWER/d/s"
	$X --start
	$X sh -c 'echo more >>"$1/d/b" && touch "$1/d/new" && mkdir "$1/d/sub"' sh "$u"
	local real
	real=$(for l in LOWER LOWER2 UPPER; do
		(cd "${!l}" && find . -printf "%i $l:%P\n"); done)
	$X find "$u" -printf '%P %i\n' | LC_ALL=C sort |
		while read -r name ino; do
			[ -n "$ino" ] || { ino=$name; name=.; }
			echo "$name $(awk -v i="$ino" '$1 == i { print $2; exit }' <<<"$real")"
		done
}

# both_ways SC: what scenario SC prints under the shim (SHIM_OUT) and on
# overlayfs over fresh layers of its own making (OVL_OUT).
both_ways() {
	SHIM_OUT=$("$1" "$TARGET" in_shim)
	make_layers
	OVL_OUT=$("$1" "$TARGET" in_ovl)
	umount "$TARGET" # mounted in the $(...) above, out of teardown's sight
}

@test "on one filesystem st_ino is the origin's inode number, as overlayfs's (shim == overlayfs)" {
	need_overlay
	both_ways sc_samefs_numbers
	grep -q '^d/b LOWER2:d/b$' <<<"$SHIM_OUT"
	same "$SHIM_OUT" "$OVL_OUT"
}

# st_nlink of dirs. A dir that more than one layer merges into (upper and
# lower, or two lowers) has no count of its subdirs kept: overlayfs says 1
# (fts and find take 1 as "count unknown" and look at every entry), where
# one layer's count (the upper's 2) would say "no subdirs" of a dir whose
# lower holds some. A dir of one layer keeps its own count. Through stat,
# a stat relative to the dir's parent fd (find's), statx and fstat.
sc_dir_nlink() {
	local u=$1 X=$2
	mkdir -p "$LOWER/m/s1" "$LOWER/m/s2" "$UPPER/m" "$LOWER/lo/s" \
		"$LOWER/two/a" "$LOWER2/two/b" "$UPPER/up/s1" "$UPPER/up/s2" \
		"$LOWER/cu/s"
	$X --start
	$X sh -c 'mkdir "$1/new" "$1/new/s" && touch "$1/cu/f"' sh "$u"
	$X python3 -c '
import os, sys
os.chdir(sys.argv[1])
top = os.open(".", os.O_RDONLY | os.O_DIRECTORY)
for d in ["m", "lo", "two", "up", "new", "cu", "m/s1", "."]:
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    print(d, os.stat(d).st_nlink, os.lstat(d).st_nlink, os.fstat(fd).st_nlink,
          os.stat(d, dir_fd=top, follow_symlinks=False).st_nlink)
    os.close(fd)
' "$u"
	$X sh -c 'cd "$1" && stat -c "%n %h" m two lo' sh "$u"
	$X find "$u" -mindepth 1 -type d -printf '%P\n' | LC_ALL=C sort
}

@test "st_nlink of a dir merged from two layers is 1 by stat, lstat, fstatat and fstat; a dir of one layer keeps its count; find sees every subdir (shim == overlayfs)" {
	need_overlay
	both_ways sc_dir_nlink
	grep -qx 'm 1 1 1 1' <<<"$SHIM_OUT"
	grep -qx 'lo 3 3 3 3' <<<"$SHIM_OUT"
	grep -qx 'm/s2' <<<"$SHIM_OUT"
	same "$OVL_OUT" "$SHIM_OUT"
}
