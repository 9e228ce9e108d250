#!/usr/bin/env bats
# Promise (semantics.md "Lower layers stay untouched", "Hard links"): no
# route reaches a lower inode through the union, and no union object is
# given a name that is the lower inode itself.
#  - link()/linkat() of a lower's own path (outside the union) into the
#    union makes a copy in the upper (ln, ln -L, cp -al work); a link of it
#    anywhere else fails with EROFS.
#  - linkat(fd, "", AT_EMPTY_PATH) and linkat("/proc/self/fd/N",
#    AT_SYMLINK_FOLLOW) of an fd on a union file link the union object
#    (copied up first), as overlayfs does; O_TMPFILE links still work.
#  - A union file reopened for writing through /proc/self/fd/N, /dev/fd/N,
#    /proc/thread-self/fd/N, /proc/<pid>/fd/N, /proc/self/cwd/...,
#    /proc/<pid>/cwd/... is copied up, and /proc/self/root/PATH is PATH, as
#    on overlayfs; a bare /proc/self/fd/N read still
#    reopens the fd's own file (a deleted one too).
#  - An fd, dirfd or cwd opened by a lower's own path stays that path, also
#    in a child that inherits it: reads work, writes (unlinkat, openat,
#    fchmod, a write or rm through /proc/self/fd/N) get EROFS.
#  - A symlink outside the union that leads into the target: writes through
#    it get EROFS (the real dir under the target is hidden; in place it is
#    the lower itself); reads see that real dir.
# Every scenario runs with the union at a separate target and in place
# (target = the top lower; the lower reachable by its own path is then the
# bottom one), and checks that no lower changed (contents, inode numbers,
# link counts, times). Where overlayfs applies, the same scenario runs on a
# kernel overlayfs mount of the same layers and the results must match.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/oracle

export LC_ALL=C

teardown() {
	unmount_union
}

# layout sep|inplace: fill the layers; OWN is the lower dir reachable by
# its own path (outside the union).
layout() {
	make_layers
	if [ "$1" = inplace ]; then
		TARGET=$LOWER
		OWN=$LOWER2
	else
		OWN=$LOWER
	fi
	echo lower > "$LOWER/f"
	mkdir "$LOWER/d"
	echo g > "$LOWER/d/g"
	echo gone > "$LOWER/d/gone"
	echo own > "$OWN/of"
	mkdir -p "$OWN/od"
	echo og > "$OWN/od/og"
	ln -s "$OWN/of" "$ROOT/sym-to-own"
	BEFORE=$(lower_state)
}

# Everything about the lowers that a write could change.
lower_state() {
	local d
	for d in "$LOWER" "$LOWER2"; do
		snapshot "$d"
		(cd "$d" && find . -printf '%p %i %n %T@ %C@\n' | LC_ALL=C sort)
	done
}

# shim_only MODE SCENARIO: the scenario's output under the shim must be
# WANT (the scenario's own variable), and no lower changes.
shim_only() {
	layout "$1"
	use_union shim
	local got
	got=$("$2" 2>&1) || true
	expect "$2 ($1)" "$WANT" "${got//$ROOT/ROOT}"
	expect "$2 ($1): no lower changed" "$BEFORE" "$(lower_state)"
}

# both MODE SCENARIO: under the shim (no lower changes) and on overlayfs,
# with the same output.
both() {
	layout "$1"
	use_union shim
	local got want
	got=$("$2" 2>&1) || true
	got=${got//$ROOT/ROOT}
	expect "$2 ($1): no lower changed" "$BEFORE" "$(lower_state)"
	layout "$1"
	use_union overlayfs
	want=$("$2" 2>&1) || true
	want=${want//$ROOT/ROOT}
	unmount_union
	MOUNTED=
	expect "$2 ($1): as overlayfs" "$want" "$got"
}

sc_link_own() {
	local lp
	lp=$(probe link_probe)
	"${RUN[@]}" sh -c '
		ln "$2/of" "$1/lnk" && echo more >> "$1/lnk" && cat "$1/lnk" &&
			stat -c "lnk %h" "$1/lnk"
		ln -L "$3/sym-to-own" "$1/viasym" && cat "$1/viasym"
		cp -al "$2/od" "$1/odc" && echo more >> "$1/odc/og" && cat "$1/odc/og"
		ln "$2/of" "$1/lnk" 2>&1
		ln "$2/of" "$3/out" 2>&1
		ln "$2/od" "$1/dirlink" 2>&1
		ln "$2/of" "$2/second" 2>&1' sh "$U" "$OWN" "$ROOT"
	"${RUN[@]}" "$lp" emptypath "$OWN/of" "$U/e1"
	"${RUN[@]}" "$lp" procfd "$OWN/of" "$U/e2"
	"${RUN[@]}" "$lp" emptypath "$OWN/of" "$ROOT/out2"
	"${RUN[@]}" cat "$U/e1" "$U/e2"
}

@test "link of a lower's own path into the union copies; elsewhere EROFS" {
	WANT="own
more
lnk 1
own
og
more
ln: failed to create hard link 'ROOT/target/lnk': File exists
ln: failed to create hard link 'ROOT/out': Read-only file system
ln: ROOT/lower/od: hard link not allowed for directory
ln: failed to create hard link 'ROOT/lower/second': Read-only file system
ok
ok
EROFS
own
own"
	shim_only sep sc_link_own
	WANT=${WANT//target\/lnk/lower\/lnk}
	WANT=${WANT//lower\/od/lower2\/od}
	WANT=${WANT//lower\/second/lower2\/second}
	shim_only inplace sc_link_own
	verdict
}

sc_link_fd() {
	local lp
	lp=$(probe link_probe)
	"${RUN[@]}" "$lp" emptypath "$U/f" "$U/e1"
	"${RUN[@]}" "$lp" procfd "$U/d/g" "$U/e2"
	"${RUN[@]}" "$lp" tmpfile "$U/d" "$U/d/t"
	"${RUN[@]}" sh -c '
		echo more >> "$1/e1"; echo more >> "$1/e2"
		cat "$1/f" "$1/d/g" "$1/d/t"; echo
		stat -c %h "$1/f" "$1/e1" "$1/d/g" "$1/e2" "$1/d/t"
		[ "$(stat -c %i "$1/f")" = "$(stat -c %i "$1/e1")" ] && echo one-file
		[ "$(stat -c %i "$1/d/g")" = "$(stat -c %i "$1/e2")" ] && echo one-file' sh "$U"
}

@test "linkat of an fd on a union file (AT_EMPTY_PATH, /proc/self/fd/N) links the union object" {
	both sep sc_link_fd
	both inplace sc_link_fd
	verdict
}

sc_reopen() {
	"${RUN[@]}" bash -c '
		cd "$1/d" || exit
		exec 3<"$1/f" 4<"$1/d/g" 5<"$1/of" 6<"$1/d/gone"
		echo a > /proc/self/fd/3; echo "fd: $?"
		echo b >> /dev/fd/4; echo "dev/fd: $?"
		echo c > /proc/self/cwd/new; echo "cwd: $?"
		echo d >> /proc/$$/cwd/g; echo "pid cwd: $?"
		echo e >> /proc/thread-self/fd/5; echo "thread-self: $?"
		echo f >> /proc/$$/fd/5; echo "pid fd: $?"
		echo r > "/proc/self/root$1/rootnew"; echo "root: $?"
		cat "$1/rootnew"
		rm "$1/d/gone"
		cat /proc/self/fd/6 /proc/self/cwd/g
		exec 7<"$1/of"; rm /proc/self/fd/7 2>&1; echo "rm fd: $?"
		cat "$1/f" "$1/d/g" "$1/d/new" "$1/of"
		ls /proc/self/cwd/' sh "$U"
}

@test "a union file reopened for writing through a magic link is copied up" {
	both sep sc_reopen
	both inplace sc_reopen
	verdict
}

sc_reopen_removed() {
	"${RUN[@]}" bash -c '
		exec 3<"$1/f"; rm "$1/f"
		echo x > /proc/self/fd/3 || echo refused
		cat /proc/self/fd/3; ls "$1"' sh "$U"
}

@test "a write through the fd link of a removed union file makes no new name" {
	WANT="sh: line 3: /proc/self/fd/3: No such file or directory
refused
lower
d
od
of"
	shim_only sep sc_reopen_removed
	shim_only inplace sc_reopen_removed
	verdict
}

sc_fd_own() {
	local lp
	lp=$(probe link_probe)
	"${RUN[@]}" "$lp" unlinkat "$OWN/od" og
	"${RUN[@]}" "$lp" dirunlink "$OWN/od" og
	"${RUN[@]}" "$lp" appendat "$OWN/od" og
	"${RUN[@]}" "$lp" fchmod "$OWN/of" -
	"${RUN[@]}" sh -c '
		cd "$1/od" && cat og && sh -c "rm og" 2>&1
		exec 3<"$1/of"; echo x 2>&1 > /proc/self/fd/3
		cat /proc/self/fd/3; readlink /proc/self/fd/3
		exec 4<"$1/od"
		sh -c "echo y > /proc/self/fd/3; rm /proc/self/fd/4/og" 2>&1
		"$2" unlinkat /proc/self/fd/4 og' sh "$OWN" "$lp"
	"${RUN[@]}" cat "$U/od/og" "$U/of"
}

@test "an fd, dirfd or cwd opened by a lower's own path stays that path" {
	WANT="EROFS
EROFS
EROFS
EROFS
og
rm: cannot remove 'og': Read-only file system
sh: 3: cannot create /proc/self/fd/3: Read-only file system
own
ROOT/lower/of
sh: 1: cannot create /proc/self/fd/3: Read-only file system
rm: cannot remove '/proc/self/fd/4/og': Read-only file system
EROFS
og
own"
	shim_only sep sc_fd_own
	WANT=${WANT//lower\/of/lower2\/of}
	shim_only inplace sc_fd_own
	verdict
}

sc_symlink_in() {
	ln -s "$U" "$ROOT/to-target"
	ln -s "$U/d" "$ROOT/to-d"
	"${RUN[@]}" sh -c '
		echo x > "$1/to-target/new" 2>&1
		mkdir "$1/to-target/nd" 2>&1
		echo y > "$1/to-d/g" 2>&1
		touch "$1/to-target/f" 2>&1
		rm -f "$1/to-target/f" 2>&1
		ls "$1/to-target/"' sh "$ROOT"
	[ "$U" = "$LOWER" ] || ls -A "$ROOT/target"
}

@test "writes through a symlink outside the union into the target get EROFS" {
	WANT="sh: 2: cannot create ROOT/to-target/new: Read-only file system
mkdir: cannot create directory 'ROOT/to-target/nd': Read-only file system
sh: 4: cannot create ROOT/to-d/g: Directory nonexistent
touch: cannot touch 'ROOT/to-target/f': Read-only file system"
	shim_only sep sc_symlink_in
	WANT="sh: 2: cannot create ROOT/to-target/new: Read-only file system
mkdir: cannot create directory 'ROOT/to-target/nd': Read-only file system
sh: 4: cannot create ROOT/to-d/g: Read-only file system
touch: cannot touch 'ROOT/to-target/f': Read-only file system
rm: cannot remove 'ROOT/to-target/f': Read-only file system
d
f"
	shim_only inplace sc_symlink_in
	verdict
}
