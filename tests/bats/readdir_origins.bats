#!/usr/bin/env bats
# Listing an upper dir needs each copied-up entry's origin record (its
# d_ino is its origin's inode number). A process remembers what it read
# for a dir whose ctime had settled, and reads it again only once the dir
# changed: a copy-up, rename or link into it made by another process must
# show in this process's next listing (d_ino == st_ino, as on overlayfs).

load ../lib/common
load ../lib/oracle

setup() {
	make_layers
	mkdir -p "$LOWER/d" "$LOWER/e" "$UPPER/d"
	for i in $(seq 1 20); do
		echo "$i" > "$LOWER/d/low$i"
		echo "$i" > "$UPPER/d/up$i"
	done
	echo moved > "$LOWER/e/moved"
	echo linked > "$LOWER/e/linked"
	# the dir's ctime must have settled for a listing to be remembered
	sleep 1.2
}

teardown() {
	unmount_union
}

# d_ino == st_ino in one process before and after another process of the
# union copies up, renames and links into the dir it listed.
listing_follows_change() {
	use_union "$1"
	local change="chmod 600 $U/d/low1 && mv $U/e/moved $U/d/moved && chmod 600 $U/e/linked && ln $U/e/linked $U/d/linked"
	run "${RUN[@]}" "$(probe identity_probe)" dino-around "$change" "$U/d"
	expect "no MISMATCH line (d_ino equals st_ino before and after the change)" \
		"" "$(grep -E 'MISMATCH|ERROR' <<<"$output")"
	expect "both listings checked every entry (readdir and getdents64: 42, then 44 with . and ..)" \
		"checked 84 checked 88" "$(grep '^checked' <<<"$output" | tr '\n' ' ' | sed 's/ $//')"
	verdict
}

@test "shim: a listing after another process changed the dir shows the change" {
	listing_follows_change shim
}

@test "overlayfs: a listing after another process changed the dir shows the change" {
	listing_follows_change overlayfs
}

@test "listing a settled upper dir again reads no origin record again" {
	command -v strace >/dev/null || skip "strace is not installed"
	local log=$BATS_TEST_TMPDIR/strace.log
	# an earlier work dir's copy in d: the dir holds records (read when
	# the union's first process scans the upper)
	python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.unionshim.origin", b"1:1:1")' \
		"$UPPER/d/up1"
	in_union strace -f -qq -o "$log" ls -f "$TARGET/d" "$TARGET/d" >/dev/null
	# the first listing reads the records of the 20 upper entries (and of
	# . and ..), by path or by name from the dir's fd (getxattrat, 464,
	# unnamed by older straces); the second none
	local by_path by_name
	by_path=$(grep -c "getxattr(\"$UPPER/d/" "$log" || true)
	by_name=$(grep -cE '^[0-9]+ +(getxattrat|syscall_0x1d0)\(' "$log" || true)
	echo "by path $by_path, by name $by_name"
	[ $((by_path + by_name)) -ge 20 ]
	[ $((by_path + by_name)) -le 22 ]
}
