#!/usr/bin/env bats
# Promise (semantics.md "Removing and renaming": renaming a directory that
# exists below works without EXDEV and without copying its tree;
# "Identity", "Hard links", "Lower layers stay untouched"): rename() of a
# dir with a lower half is done in place, as kernel overlayfs does with
# redirect_dir=on: the dir and everything below keep their st_ino, hard
# links between the moved tree and the rest of the union stay one file,
# its listing, `..` from inside it, a copy-up below it, renaming it again,
# renaming its parent, renames inside it and renaming it back all read as
# on overlayfs; rmdir of it answers ENOTEMPTY while the merged dir holds a
# name; the redirect record is hidden; an fd open below it keeps reading
# fresh data; the rename costs the same system calls
# whatever the size of the tree below. Each scenario runs under the shim
# and on a kernel overlayfs mount (redirect_dir=on,index=on,xino=on) of
# the same layers; the transcripts must be equal.

bats_require_minimum_version 1.5.0

load ../lib/common

OVL_OPTS=redirect_dir=on,index=on,xino=on

setup() {
	make_layers
	mkdir -p "$LOWER/top/a/sub/deep" "$LOWER2/top/a/more" "$LOWER/other"
	echo f > "$LOWER/top/a/f"
	echo g > "$LOWER/top/a/sub/g"
	echo d > "$LOWER/top/a/sub/deep/d"
	echo m > "$LOWER2/top/a/more/m"
	echo two > "$LOWER2/top/a/two"
	ln "$LOWER/top/a/f" "$LOWER/other/hl" # a hard link out of the tree
	BEFORE=$(snapshot "$ROOT/lower"; snapshot "$ROOT/lower2")
	cd "$ROOT"
}

teardown() {
	if mountpoint -q "$TARGET"; then
		umount "$TARGET" || umount -l "$TARGET"
	fi
}

# side shim|overlayfs SCRIPT: SCRIPT run by sh with $1 = the union root,
# in a fresh upper, under the shim or on overlayfs; its transcript.
side() {
	rm -rf "$UPPER" "$WORK" && mkdir "$UPPER" "$WORK"
	if [ "$1" = shim ]; then
		in_union sh -c "$2" sh "$TARGET" 2>&1
	else
		mount -t overlay overlay \
			-o "lowerdir=$LOWER:$LOWER2,upperdir=$UPPER,workdir=$WORK,$OVL_OPTS" "$TARGET" ||
			return 99
		sh -c "$2" sh "$TARGET" 2>&1
		umount "$TARGET"
	fi
}

# compare SCRIPT: the shim's transcript equals overlayfs's (where
# overlayfs mounts; the shim's alone must still equal WANT when given).
compare() {
	local ours theirs
	ours=$(side shim "$1")
	echo "--- shim:"; echo "$ours"
	[ "$(snapshot "$ROOT/lower"; snapshot "$ROOT/lower2")" = "$BEFORE" ] ||
		{ echo "a lower changed"; return 1; }
	if [ -n "${2:-}" ]; then
		[ "$ours" = "$2" ] || { echo "--- want:"; echo "$2"; return 1; }
	fi
	can_mount_overlay || return 0
	theirs=$(side overlayfs "$1")
	echo "--- overlayfs:"; echo "$theirs"
	[ "$ours" = "$theirs" ]
}

# Shell helpers every script starts with: ids NAME... remembers st_ino
# of names; same NAME OLD reports whether NAME has OLD's remembered one.
PRE='cd "$1" || exit 99
ids() { for n; do eval "ino_$(echo "$n" | tr -c "a-z0-9\n" _)=\$(stat -c %i \"\$n\")"; done; }
same() { o=$(eval echo "\$ino_$(echo "$2" | tr -c "a-z0-9\n" _)"); n=$(stat -c %i "$1" 2>/dev/null); [ "$o" = "$n" ] && echo "$1 is $2" || echo "$1 is NOT $2"; }
list() { echo "$1: $(ls -A "$1" 2>&1 | tr "\n" " ")"; }
'

@test "rename of a dir that exists below: in place, tree, identity and hard links kept" {
	compare "$PRE"'
ids top/a top/a/f top/a/sub top/a/sub/g top/a/more/m other/hl
mv top/a top/b; echo "mv rc=$?"
list top; list top/b; list top/b/sub; list top/b/more
same top/b top/a; same top/b/f top/a/f; same top/b/sub top/a/sub
same top/b/sub/g top/a/sub/g; same top/b/more/m top/a/more/m
same other/hl top/a/f
echo more >> top/b/f; cat other/hl
same top/b/f top/a/f; same other/hl top/a/f
echo "nlink $(stat -c %h top/b/f)"
cat top/b/sub/deep/d top/b/two
ls -A top/a 2>/dev/null || echo "old name gone"
getfattr -d -m - top/b 2>/dev/null | grep -c unionshim
(cd top/b/sub && list .. && cat ../f)'
}

@test "rename again, rename of the parent, renames inside, and back to the first name" {
	compare "$PRE"'
ids top/a/f top/a/sub/g top/a/sub/deep/d top/a/more/m
mv top/a top/b && mv top/b top/c && mv top top2; echo "rc=$?"
list top2; list top2/c; same top2/c/f top/a/f
mv top2/c/sub top2/c/more/s2; echo "rc=$?"
list top2/c; list top2/c/more; list top2/c/more/s2; same top2/c/more/s2/g top/a/sub/g
mv top2/c/more/s2/deep other/deep2; echo "rc=$?"
cat other/deep2/d; same other/deep2/d top/a/sub/deep/d
mv top2/c/more other/more; mv other/more/s2 top2/c/sub; echo "rc=$?"
list top2/c; list other/more; list top2/c/sub
mv top2 top && mv top/c top/a && mv other/deep2 top/a/sub/deep; echo "rc=$?"
list top/a; list top/a/sub; list top/a/sub/deep
same top/a/sub/deep/d top/a/sub/deep/d; same top/a/more/m top/a/more/m
mv other/more top/a/more; echo "rc=$?"; list top/a; list top/a/more'
}

@test "rmdir of a renamed dir: ENOTEMPTY while its merged listing has names; copy-up below it" {
	compare "$PRE"'
ids top/a/sub/g top/a/f
mv top/a top/b
rmdir top/b 2>/dev/null; echo "rmdir full rc=$?"
echo new >> top/b/sub/g; cat top/b/sub/g
same top/b/sub/g top/a/sub/g; same other/hl top/a/f
rm -r top/b/sub top/b/more top/b/f; echo "rm rc=$?"
list top/b
rmdir top/b 2>/dev/null; echo "rmdir rc=$?"
rm top/b/two; rmdir top/b; echo "rmdir emptied rc=$?"
list top
mkdir top/b; list top/b; mkdir top/a; list top/a'
}

# RENAME_EXCHANGE through libc's renameat2 (the shim's wrapper under it).
XCHG='import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
rc = libc.renameat2(-100, sys.argv[1].encode(), -100, sys.argv[2].encode(), 2)
print("exchange rc=%d %s" % (rc, os.strerror(ctypes.get_errno()) if rc else ""))'

@test "exchange of two dirs that exist below; a dir moved onto a whited-out name" {
	command -v python3 >/dev/null || skip "no python3"
	compare "$PRE"'
ids top/a/f other/hl
python3 -c '"'$XCHG'"' top/a other
list top/a; list other; same other/f top/a/f; same top/a/hl other/hl
rm top/a/hl && rmdir top/a && mv other top/a; echo "rc=$?"
list top/a; same top/a/f top/a/f'
}

@test "an fd open on a lower file below a renamed dir: fresh data after another process's copy-up, its path" {
	command -v python3 >/dev/null || skip "no python3"
	compare "$PRE"'
mv top/a top/b
python3 -c "
import os, subprocess
fd = os.open(\"top/b/sub/g\", os.O_RDONLY)
d = os.open(\"top/b/sub/deep\", os.O_RDONLY | os.O_DIRECTORY)
print(os.read(fd, 100), os.readlink(\"/proc/self/fd/%d\" % fd).endswith(\"/top/b/sub/g\"))
subprocess.run([\"sh\", \"-c\", \"echo more >>top/b/sub/g; mv top/b/more top/more; rm top/b/f\"])
os.lseek(fd, 0, 0)
print(os.read(fd, 100), os.fstat(fd).st_size, os.listdir(d))
print(open(\"d\", opener=lambda n, f: os.open(n, f, dir_fd=d)).read())
"'
}

# strace -f -c's total of system calls for `mv top/a top/b` under the
# shim.
calls_of_mv() {
	rm -rf "$UPPER" "$WORK" && mkdir "$UPPER" "$WORK"
	in_union strace -f -c -o "$ROOT/calls" mv "$TARGET/top/a" "$TARGET/top/b" ||
		return 1
	awk '$NF == "total" { print $4 }' "$ROOT/calls"
}

@test "mv of a dir with 1,000 files below costs what mv of a dir with 2 does" {
	command -v strace >/dev/null || skip "no strace"
	local small big i
	small=$(calls_of_mv)
	for i in $(seq 1000); do : >"$LOWER/top/a/sub/f$i"; done
	big=$(calls_of_mv)
	echo "system calls: tree of 5 files: $small; of 1,005: $big"
	[ "$small" -gt 0 ]
	[ "$big" -le $((small + 10)) ]
	in_union ls "$TARGET/top/b/sub" | wc -l | grep -qx 1002
	[ ! -e "$UPPER/top/b/sub" ] # nothing below the dir was copied
}

# fresh_work shim|overlayfs: rename two dirs (one deep), then drop the
# work dir and look again from a new one; the transcript.
fresh_work() {
	rm -rf "$UPPER" "$WORK" && mkdir "$UPPER" "$WORK"
	local look='cd "$1" && ls top/b top/b/more top/b/more/s2 top/b/more/s2/deep'
	if [ "$1" = shim ]; then
		in_union sh -c 'cd "$1" && mv top/a/sub top/a/more/s2 && mv top/a top/b' sh "$TARGET" || return 1
		rm -rf "$WORK" && mkdir "$WORK"
		in_union sh -c "$look" sh "$TARGET" 2>&1
		# the record is read from an upper (not a new work dir) once
		in_union sh -c "$look" sh "$TARGET" 2>&1
	else
		local o="lowerdir=$LOWER:$LOWER2,upperdir=$UPPER,workdir=$WORK,$OVL_OPTS"
		mount -t overlay overlay -o "$o" "$TARGET" || return 99
		(cd "$TARGET" && mv top/a/sub top/a/more/s2 && mv top/a top/b)
		umount "$TARGET"
		rm -rf "$WORK" && mkdir "$WORK"
		mount -t overlay overlay -o "$o" "$TARGET" || return 99
		sh -c "$look" sh "$TARGET" 2>&1
		sh -c "$look" sh "$TARGET" 2>&1
		umount "$TARGET"
	fi
}

# both SIDE [LINE...]: SIDE's transcript under the shim (the lowers
# untouched, each LINE, a grep pattern, in it) equals overlayfs's, where
# overlayfs mounts.
both() {
	local side=$1 ours theirs want
	shift
	ours=$($side shim)
	echo "--- shim:"; echo "$ours"
	[ "$(snapshot "$ROOT/lower"; snapshot "$ROOT/lower2")" = "$BEFORE" ]
	for want; do grep -q -- "$want" <<<"$ours"; done
	can_mount_overlay || return 0
	theirs=$($side overlayfs)
	echo "--- overlayfs:"; echo "$theirs"
	[ "$ours" = "$theirs" ]
}

@test "renamed dirs keep their lower halves under a new work dir (records read from the upper)" {
	both fresh_work '^g$' '^d$'
}

# stacked SIDE: renames made in a first union (upper U0 over the lowers),
# then U0 stacked as a lower under a fresh upper (unionmount-testsuite's
# layer rotation), and again read-only with no upper: what the renamed
# dirs hold, read, renamed again, on each side.
stacked() {
	local u0=$ROOT/u0 w0=$ROOT/w0 u1=$ROOT/u1 w1=$ROOT/w1
	local make='cd "$1" && mv top/a top/b && mkdir other/x && mv top/b other/x/c && mv top other/t'
	local look='cd "$1" && for d in other/x/c other/x/c/sub other/x/c/more other/t; do echo "$d: $(ls -A "$d" 2>&1 | tr "\n" " ")"; done; cat other/x/c/sub/g other/x/c/two; [ -e top ] && echo "top is back"'
	local again='cd "$1" && mv other/x/c other/y && ls -A other/y | tr "\n" " " && echo'
	rm -rf "$u0" "$w0" "$u1" "$w1" && mkdir "$u0" "$w0" "$u1" "$w1"
	if [ "$1" = shim ]; then
		"$UNIONRUN" -q --lower "$LOWER" --lower "$LOWER2" --upper "$u0" --work "$w0" \
			--at "$TARGET" -- sh -c "$make" sh "$TARGET" 2>&1
		local stack=(--lower "$u0" --lower "$LOWER" --lower "$LOWER2")
		"$UNIONRUN" -q "${stack[@]}" --at "$TARGET" -- sh -c "$look" sh "$TARGET" 2>&1
		"$UNIONRUN" -q "${stack[@]}" --upper "$u1" --work "$w1" --at "$TARGET" -- \
			sh -c "$look; $again" sh "$TARGET" 2>&1
	else
		local o=redirect_dir=on,index=on,xino=on
		mount -t overlay overlay -o "lowerdir=$LOWER:$LOWER2,upperdir=$u0,workdir=$w0,$o" "$TARGET" || return 99
		sh -c "$make" sh "$TARGET" 2>&1
		umount "$TARGET"
		mount -t overlay overlay -o "lowerdir=$u0:$LOWER:$LOWER2,redirect_dir=follow" "$TARGET" || return 99
		sh -c "$look" sh "$TARGET" 2>&1
		umount "$TARGET"
		mount -t overlay overlay -o "lowerdir=$u0:$LOWER:$LOWER2,upperdir=$u1,workdir=$w1,$o" "$TARGET" || return 99
		sh -c "$look; $again" sh "$TARGET" 2>&1
		umount "$TARGET"
	fi
}

@test "a former upper stacked as a lower: its renamed dirs keep their lower halves (records followed in any layer)" {
	both stacked '^other/x/c/sub: deep g'
}
