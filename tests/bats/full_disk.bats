#!/usr/bin/env bats
# Promise (semantics.md "Robustness", "Copy-up", "Lower layers stay
# untouched"): on a full upper filesystem every write through the union
# either works or fails with the errno the kernel gives for a full disk
# (ENOSPC), never another one, with nothing partial visible: the lower
# unchanged, the union view (names, types, modes, owners, sizes, link
# counts, inode numbers, contents) as before, no copy-up temp left in the
# work dir; and the same call works once space is freed. Covered: file
# copy-up (data), dir copy-up with parents, metadata copy-up with xattrs,
# whiteouts (unlink, rename, rmdir of a merged dir), an opaque dir made
# over a whiteout, the hard-link index (link, unlink of a lower hard link),
# origin records of copied-up symlinks, creates through the union.
#
# The upper and work dirs live on a small tmpfs mounted for the test
# (root); it is filled with data and/or inodes (nr_inodes), leaving 0..N
# inodes free, so each write step of the union runs out in turn. Every
# scenario runs under the shim and, as the oracle, on kernel overlayfs
# over the same layers. The shim's #state is left as the shim made it
# (allocated whole at the first start, shared_state.bats).

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/oracle

setup() {
	make_layers
	FS=$ROOT/fs
	mkdir "$FS"
	mount -t tmpfs -o size=64k tmpfs "$FS" 2>/dev/null || skip "cannot mount a tmpfs here (needs root)"
	umount "$FS"
	head -c 300000 /dev/urandom >"$LOWER/big"
	echo small >"$LOWER/small"
	setfattr -n user.color -v blue "$LOWER/small"
	mkdir -p "$LOWER/d1/d2" "$LOWER/dd" "$LOWER/ee"
	echo f >"$LOWER/d1/d2/f"
	echo z >"$LOWER/dd/z"
	echo g >"$LOWER/gone"
	ln -s small "$LOWER/sym"
	echo hl >"$LOWER/h1"
	ln "$LOWER/h1" "$LOWER/h2"
	LOWER_SNAP=$(snapshot "$LOWER"; getfattr -R -h -d -m - "$LOWER" 2>/dev/null)
	UPPER=$FS/upper
	WORK=$FS/work
}

teardown() {
	unmount_union
	if mountpoint -q "$FS"; then umount "$FS" || umount -l "$FS"; fi
}

# fresh_fs MODE: a new 1 MiB tmpfs with 96 inodes for upper and work, the
# union (MODE shim|overlayfs) over it, in use once (#state made).
fresh_fs() {
	unmount_union
	if mountpoint -q "$FS"; then umount "$FS"; fi
	mount -t tmpfs -o size=1m,nr_inodes=96 tmpfs "$FS"
	mkdir "$UPPER" "$WORK"
	use_union "$1"
	"${RUN[@]}" ls "$U" >/dev/null
}

# fill DATA FREE: take every data block (DATA=1) or all but 100 KiB
# (DATA=part: a copy of the 300 KB file starts, then runs out), and every
# inode but FREE.
fill() {
	local i=0 avail
	if [ "$1" = 1 ]; then head -c 2000000 /dev/zero >"$FS/filler" 2>/dev/null || true; fi
	if [ "$1" = part ]; then
		avail=$(df -B1 --output=avail "$FS" | tail -1)
		head -c $((avail - 102400)) /dev/zero >"$FS/filler"
	fi
	while : 2>/dev/null >"$FS/i$i"; do i=$((i + 1)); done
	for ((i = 0; i < $2; i++)); do rm "$FS/i$i"; done
}

unfill() {
	rm -f "$FS/filler" "$FS"/i*
}

# The union as a program sees it; with "id", inode numbers too. A dir's
# size and link count are the upper filesystem's once it is copied up (on
# overlayfs too), and a copied-up parent is no change: left out.
view() {
	local fmt='%y ./%P %m %U:%G %s %n %l'
	[ "${1:-}" = id ] && fmt="$fmt %i"
	"${RUN[@]}" find "$U" -printf "$fmt\n" |
		awk '$1 == "d" { $5 = "-"; $6 = "-" } { print }' | LC_ALL=C sort -k2
	"${RUN[@]}" sh -c 'cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 cat | sha256sum' _ "$U"
	"${RUN[@]}" getfattr -h -d -m user. "$U/small" 2>/dev/null || true
}

# op CMD: "ok", "ENOSPC" (the message of a full disk) or what else it said.
op() {
	local out rc=0
	out=$("${RUN[@]}" sh -c "cd \"\$1\" && $1" _ "$U" 2>&1) || rc=$?
	if [ $rc -eq 0 ]; then
		echo ok
	elif [ $rc -lt 128 ] && [[ $out == *"No space left on device"* ]]; then
		echo ENOSPC
	else
		echo "status $rc: $out"
	fi
}

leftovers() {
	if [ "$MODE" = shim ]; then
		(cd "$WORK" && find . -name '#us.*')
	else
		(cd "$WORK/work" && find . -mindepth 1)
	fi
}

# sweep MODE DATA "PRE" "OP" MAXFREE: (SAME=id: an OP that works must also
# give the inode numbers it gives with room) for FREE = 0..MAXFREE inodes left
# (and the data blocks full when DATA=1), run PRE with room, fill, run OP.
# Stops at the first FREE where OP works; OP must have failed with ENOSPC
# before (FREE=0) and must work with room (with the data full it may never
# work).
sweep() {
	MODE=$1
	local SAME=${SAME:-} data=$2 pre=$3 cmd=$4 max=$5 free want before got r left
	fresh_fs "$MODE"
	[ -z "$pre" ] || [ "$(op "$pre")" = ok ] || BROKEN+=("setup: $pre failed")
	[ "$(op "$cmd")" = ok ] || BROKEN+=("setup: '$cmd' fails with room: $(op "$cmd")")
	want=$(view $SAME)
	for ((free = 0; free <= max; free++)); do
		fresh_fs "$MODE"
		[ -z "$pre" ] || op "$pre" >/dev/null
		before=$(view id)
		fill "$data" "$free"
		r=$(op "$cmd")
		if [ "$r" = ok ]; then
			[ "$free" -gt 0 ] || BROKEN+=("setup: '$cmd' worked on a full disk (data=$data)")
			expect "Full disk: '$cmd' that works with $free inodes left (data full: $data) does what it does with room" "$want" "$(view $SAME)"
			break
		fi
		expect "Full disk: '$cmd' with $free inodes left (data full: $data) fails with ENOSPC" ENOSPC "$r"
		# before any new union process: one cleans the temps of dead ones
		left=$(leftovers)
		expect "Full disk: after '$cmd' failed ($free inodes left, data full: $data) no temp is left in the work dir" "" "$left"
		expect "Full disk: after '$cmd' failed ($free inodes left, data full: $data) the union view is unchanged" "$before" "$(view id)"
		unfill
		expect "Full disk: '$cmd' works once space is freed ($free inodes were left, data full: $data)" ok "$(op "$cmd")"
		expect "Full disk: '$cmd' after space was freed does what it does with room" "$want" "$(view $SAME)"
	done
	[ "$r" = ok ] || [ "$data" != 0 ] || BROKEN+=("setup: '$cmd' never worked with up to $max inodes left")
	expect "Lower layers stay untouched after '$cmd' on a full disk" "$LOWER_SNAP" \
		"$(snapshot "$LOWER"; getfattr -R -h -d -m - "$LOWER" 2>/dev/null)"
}

# The write steps; each op is one call to the kernel as the program sees it.
copyup_ops() {
	sweep "$1" 1 "" 'echo more >>big' 3
	sweep "$1" part "" 'echo more >>big' 3
	sweep "$1" 0 "" 'echo more >>d1/d2/f' 12
	sweep "$1" 0 "" 'chmod 600 small' 12
	verdict
}

remove_ops() {
	sweep "$1" 0 "" 'rm small' 12
	sweep "$1" 0 "" 'mv small moved' 12
	sweep "$1" 0 "rm dd/z" 'rmdir dd' 12
	sweep "$1" 0 "rm gone" 'mkdir gone' 12
	verdict
}

identity_ops() {
	local SAME=id
	sweep "$1" 0 "" 'ln h1 h3' 16
	sweep "$1" 0 "" 'rm h1' 16
	sweep "$1" 0 "" 'chown -h 1:1 sym' 12
	verdict
}

create_ops() {
	sweep "$1" 0 "" 'touch ee/newf' 12
	sweep "$1" 0 "" 'mkdir ee/newd' 12
	sweep "$1" 0 "" 'ln -s x ee/newsym' 12
	verdict
}

@test "full disk: copy-up of file data, of dirs with their parents, of metadata with xattrs: ENOSPC, nothing partial, works once freed (shim)" {
	copyup_ops shim
}

@test "full disk: copy-up of file data, of dirs with their parents, of metadata with xattrs: ENOSPC, nothing partial, works once freed (overlayfs oracle)" {
	copyup_ops overlayfs
}

@test "full disk: whiteouts of unlink, rename and rmdir, an opaque dir over a whiteout: ENOSPC, nothing partial, works once freed (shim)" {
	remove_ops shim
}

@test "full disk: whiteouts of unlink, rename and rmdir, an opaque dir over a whiteout: ENOSPC, nothing partial, works once freed (overlayfs oracle)" {
	remove_ops overlayfs
}

@test "full disk: the hard-link index (link, unlink of a lower hard link) and origin records: ENOSPC, link counts and inode numbers unchanged, works once freed (shim)" {
	identity_ops shim
}

@test "full disk: the hard-link index (link, unlink of a lower hard link) and origin records: ENOSPC, link counts and inode numbers unchanged, works once freed (overlayfs oracle)" {
	identity_ops overlayfs
}

@test "full disk: creates through the union (file, dir, symlink): ENOSPC, nothing partial, works once freed (shim)" {
	create_ops shim
}

@test "full disk: creates through the union (file, dir, symlink): ENOSPC, nothing partial, works once freed (overlayfs oracle)" {
	create_ops overlayfs
}
