#!/usr/bin/env bats
# Promise (semantics.md "Lower layers stay untouched", "Copy-up"): the
# routes no shell tool takes, driven by tests/probes/door_probe.c, reach
# the union or are refused, never the lower: fd calls by syscall number
# (fchmod, fchown, fsetxattr, fremovexattr), the path calls the door
# missed or glibc has no function for (utime, utimes, futimesat,
# fchmodat2, the *xattrat calls, file_setattr), ioctl writers (chattr's
# FS_IOC_SETFLAGS, FS_IOC_FSSETXATTR: copy-up as overlayfs does; others:
# EROFS), file handles opened for writing (EROFS, also when the kernel
# finds the file with no path to it), the old getdents, inotify and
# fanotify marks, AF_UNIX datagram destinations, acct, io_uring_setup and
# liburing's ring setup (ENOSYS), the mount family (EPERM). Every write
# route runs on a lower file of a union seen at a separate target and in
# place (target == lower); the lower must be byte- and metadata-identical
# afterwards (contents, mode, owner, times, flags and version, xattrs).
# Where overlayfs applies, the union's view after the call is compared
# with a kernel overlayfs mount of the same layers.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/oracle

setup() {
	make_layers
	echo hello > "$LOWER/f"
	setfattr -n user.keep -v k "$LOWER/f"
	mkdir "$LOWER/d" "$LOWER2/d"
	echo a > "$LOWER/d/a"
	echo b > "$LOWER2/d/b"
	BEFORE=$(lower_state)
	cd "$ROOT"
}

teardown() {
	unmount_union
}

# Everything about the lower dirs a write could change; atime left out.
lower_state() {
	local l
	for l in "$LOWER" "$LOWER2"; do
		snapshot "$l"
		(cd "$l" && find . -printf '%p %u %g %T@ %C@\n' | LC_ALL=C sort &&
			lsattr -R -v -a . 2>/dev/null && getfattr -R -d -m - . 2>/dev/null)
	done
}

# in_place CMD...: CMD in a union whose target is the lower itself.
in_place() {
	LD_PRELOAD=$SHIM_LIB \
		UNIONSHIM_MOUNTS="target=$LOWER,lowerdir=$LOWER:$LOWER2,upperdir=$UPPER,workdir=$WORK" "$@"
}

door() { "${RUN[@]}" "$(probe door_probe)" "$@"; }

# The union's view of file U/F after a call: mode, owner, mtime, flags,
# xattrs (read through the union, which hides the shim's own).
view() {
	"${RUN[@]}" stat -c '%a %u %g %Y' "$U/$1"
	"${RUN[@]}" lsattr -d "$U/$1" | cut -d' ' -f1
	"${RUN[@]}" getfattr -d -m 'user\.' --absolute-names "$U/$1" | grep -v '^#' || true
}

# routes OP...: each OP on f in a fresh copy of the layers, at the
# separate target and in place; each must print "OP ok", land in the
# upper and leave the lower as it was. With overlayfs, the same OPs run on
# a kernel overlayfs mount and the views must agree.
routes() {
	local op ours theirs
	for op in "$@"; do
		rm -rf "$UPPER" "$WORK" && mkdir "$UPPER" "$WORK"
		use_union shim
		ours=$(door "$op" "$U/f"; view f)
		expect "$op on a lower file through the union is done on the copy" \
			"$op ok" "$(head -1 <<<"$ours")"
		expect "$op leaves a copy in the upper" yes "$([ -f "$UPPER/f" ] && echo yes)"
		expect "$op at the target leaves the lower untouched" "$BEFORE" "$(lower_state)"

		rm -rf "$UPPER" "$WORK" && mkdir "$UPPER" "$WORK"
		expect "$op in place is done on the copy" "$op ok" \
			"$(in_place "$(probe door_probe)" "$op" "$LOWER/f")"
		expect "$op in place leaves a copy in the upper" yes "$([ -f "$UPPER/f" ] && echo yes)"
		expect "$op in place leaves the lower untouched" "$BEFORE" "$(lower_state)"

		if [ "${OVERLAY:-1}" = 1 ] && can_mount_overlay; then
			rm -rf "$UPPER" "$WORK" && mkdir "$UPPER" "$WORK"
			use_union overlayfs
			theirs=$(door "$op" "$U/f"; view f)
			unmount_union
			expect "$op: the union shows what overlayfs shows" "$theirs" "$ours"
			expect "$op on overlayfs leaves the lower untouched" "$BEFORE" "$(lower_state)"
		fi
	done
}

# refused ERR OP [NAME] [ARG]: OP on NAME (f) fails with ERR at the
# separate target and in place, and changes no layer.
refused() {
	local err=$1 op=$2 name=${3:-f} arg=${4:-}
	expect "$op at the target is refused with $err" "$op $err" \
		"$(in_union "$(probe door_probe)" "$op" "$TARGET/$name" $arg)"
	expect "$op in place is refused with $err" "$op $err" \
		"$(in_place "$(probe door_probe)" "$op" "$LOWER/$name" $arg)"
	expect "$op leaves the lower untouched" "$BEFORE" "$(lower_state)"
	expect "$op writes nothing into the upper" "" "$(ls -A "$UPPER")"
}

@test "fd calls by syscall number on a lower file (fchmod, fchown, fsetxattr, fremovexattr) copy up" {
	routes fchmod fchown fsetxattr fremovexattr
	verdict
}

@test "path calls by syscall number (utime, utimes, futimesat, fchmodat2, setxattrat, removexattrat, file_setattr) copy up" {
	routes utime utimes futimesat fchmodat2 fchmodat2-fd setxattrat \
		setxattrat-fd removexattrat file_setattr
	verdict
}

@test "ioctl fileattr set (chattr: FS_IOC_SETFLAGS by ioctl and by syscall, FS_IOC_FSSETXATTR) copies up, as overlayfs" {
	routes ioctl-setflags sys-ioctl-setflags ioctl-fssetxattr
	expect "chattr +d through the union" 0 \
		"$(in_union chattr +d "$TARGET/d" >/dev/null 2>&1; echo $?)"
	expect "chattr +d on a merged dir lands on its upper copy" d \
		"$(lsattr -d "$UPPER/d" | cut -c7)"
	expect "chattr on a merged dir leaves the lower untouched" "$BEFORE" "$(lower_state)"
	verdict
}

@test "other ioctl writers of a lower file (FS_IOC_SETVERSION) get EROFS" {
	refused EROFS ioctl-setversion
	verdict
}

@test "a read-only union refuses the fileattr set with EROFS" {
	expect "FS_IOC_SETFLAGS in a read-only union" "ioctl-setflags EROFS" \
		"$(in_union_ro "$(probe door_probe)" ioctl-setflags "$TARGET/f")"
	expect "the lower untouched" "$BEFORE" "$(lower_state)"
	verdict
}

@test "xattr reads by fd and by the *xattrat calls hide the shim's own xattrs" {
	in_union chmod 600 "$TARGET/f"
	[ -n "$(getfattr -d -m 'user\.unionshim' "$UPPER/f" 2>/dev/null)" ] # the copy has one
	local p
	p=$(probe door_probe)
	expect "fgetxattr by syscall" "fgetxattr ENODATA" \
		"$(in_union "$p" fgetxattr "$TARGET/f" user.unionshim.origin)"
	expect "getxattrat" "getxattrat ENODATA" \
		"$(in_union "$p" getxattrat "$TARGET/f" user.unionshim.origin)"
	expect "flistxattr by syscall" "flistxattr user.keep " \
		"$(in_union "$p" flistxattr "$TARGET/f")"
	expect "listxattrat" "listxattrat user.keep " \
		"$(in_union "$p" listxattrat "$TARGET/f")"
	verdict
}

@test "a write open by file handle (O_RDWR, O_TRUNC; syscall and libc) of a lower file gets EROFS; a read-only open works" {
	refused EROFS handle-rdwr
	refused EROFS handle-trunc
	refused EROFS handle-rdwr-libc
	expect "read-only open by handle" "handle-rdonly ok" \
		"$(in_union "$(probe door_probe)" handle-rdonly "$TARGET/f")"
	verdict
}

@test "writes through a handle of a lower file the kernel finds with no path (evicted dentry) get EROFS" {
	[ -w /proc/sys/vm/drop_caches ] || skip "cannot evict dentries here"
	mkdir -p "$LOWER/deep/er"
	echo deep > "$LOWER/deep/er/g"
	BEFORE=$(lower_state)
	local p how
	p=$(probe door_probe)
	for how in rdwr fchmod setflags; do
		in_union "$p" handle-save "$TARGET/deep/er/g" "$ROOT/h" >/dev/null
		sync
		echo 2 > /proc/sys/vm/drop_caches
		expect "handle of an evicted lower file, $how" "handle-load EROFS" \
			"$(in_union "$p" handle-load "$ROOT/h" "$how")"
	done
	expect "the lower untouched" "$BEFORE" "$(lower_state)"
	verdict
}

@test "the old getdents by syscall lists the merged dir, as overlayfs" {
	local ours theirs
	use_union shim
	ours=$(door getdents "$U/d" | LC_ALL=C sort)
	expect "getdents at the target lists both layers" \
		"$(printf 'getdents . 4\ngetdents .. 4\ngetdents a 8\ngetdents b 8')" "$ours"
	expect "getdents in place lists both layers" "$ours" \
		"$(in_place "$(probe door_probe)" getdents "$LOWER/d" | LC_ALL=C sort)"
	if can_mount_overlay; then
		use_union overlayfs
		theirs=$(door getdents "$U/d" | LC_ALL=C sort)
		expect "getdents: what overlayfs lists" "$theirs" "$ours"
	fi
	verdict
}

@test "inotify and fanotify marks by syscall watch union objects" {
	local p
	p=$(probe door_probe)
	expect "inotify_add_watch of a union file" "inotify ok" \
		"$(in_union "$p" inotify "$TARGET/f")"
	expect "fanotify_mark of a union file" "fanotify ok" \
		"$(in_union "$p" fanotify "$TARGET/f")"
	verdict
}

@test "datagrams by syscall (sendto, sendmsg) to an AF_UNIX socket bound in the union reach it" {
	local p op
	p=$(probe door_probe)
	for op in sendto sendmsg; do
		rm -f "$UPPER/sock"
		expect "$op at the target" "$op hi" "$(in_union "$p" "$op" "$TARGET/sock")"
		rm -f "$UPPER/sock"
		expect "$op in place" "$op hi" "$(in_place "$p" "$op" "$LOWER/sock")"
	done
	expect "the lower untouched" "$BEFORE" "$(lower_state)"
	verdict
}

@test "acct on a lower file copies it up and writes the copy" {
	OVERLAY=0 routes acct
	verdict
}

@test "io_uring_setup through syscall() is refused with ENOSYS, traced" {
	run --separate-stderr env UNIONSHIM_TRACE=1 LD_PRELOAD="$SHIM_LIB" \
		UNIONSHIM_MOUNTS="$(mounts_spec)" "$(probe door_probe)" uring-setup "$TARGET/f"
	expect "io_uring_setup refused" "uring-setup ENOSYS" "$output"
	expect "one trace line" 1 "$(grep -c 'unionshim: .*refused io_uring_setup' <<<"$stderr")"
	verdict
}

@test "liburing's ring setup (its own syscall instruction) is refused with -ENOSYS, traced; without a union it works" {
	run "$(probe uring_probe)"
	[[ "$output" != *"liburing absent"* ]] || skip "liburing2 is not installed (.ci/run installs it)"
	expect "without the shim a ring is set up" \
		"$(printf 'syscall ok\nio_uring_queue_init ok\nio_uring_queue_init_params ok')" "$output"
	run --separate-stderr env UNIONSHIM_TRACE=1 LD_PRELOAD="$SHIM_LIB" \
		UNIONSHIM_MOUNTS="$(mounts_spec)" "$(probe uring_probe)"
	expect "in a union every route to a ring is refused" \
		"$(printf 'syscall ENOSYS\nio_uring_queue_init ENOSYS\nio_uring_queue_init_params ENOSYS')" "$output"
	expect "one trace line per refusal" 3 "$(grep -c 'unionshim: .*refused .*io_uring' <<<"$stderr")"
	run env LD_PRELOAD="$SHIM_LIB" "$(probe uring_probe)"
	expect "with the shim loaded but no union, a ring is set up" \
		"$(printf 'syscall ok\nio_uring_queue_init ok\nio_uring_queue_init_params ok')" "$output"
	verdict
}

@test "the mount family on a union is refused with EPERM (chroot, mount on, bind mount of, open_tree clone)" {
	refused EPERM chroot d
	refused EPERM mount-on d
	refused EPERM bind-mount d "$ROOT"
	refused EPERM open_tree d
	verdict
}
