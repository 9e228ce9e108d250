#!/usr/bin/env bats
# Promise (semantics: permissions as natively): a process that switched to
# another uid (root dropping to nobody, as test suites and package builds
# do) works in the union wherever the union's own permissions let it, as
# on overlayfs: it creates, renames and removes in a dir it may write,
# rmdir of an empty dir it made included (removed in place, not through
# the root-owned work dir). The work dir's #state is made writable for
# every uid that can reach it; one that cannot open it still runs (it
# learns of no other process's changes: README "Known limits").

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/oracle

setup() {
	command -v setpriv >/dev/null || skip "setpriv (util-linux) missing"
	make_layers
	mkdir -p "$LOWER/d"
	echo f >"$LOWER/d/f"
	chmod 755 "$ROOT" "$LOWER" "$UPPER" "$WORK" "$TARGET"
	# nobody must reach the layers: bats makes its dirs private
	local d=$ROOT
	while [ "$d" != / ] && [ "$d" != /tmp ]; do
		chmod o+x "$d"
		d=$(dirname "$d")
	done
}

teardown() {
	unmount_union
}

as_nobody() {
	"${RUN[@]}" setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
}

scenario() {
	"${RUN[@]}" sh -c 'mkdir "$1/pub" && chmod 777 "$1/pub"' sh "$U"
	as_nobody sh -c '
		cd "$1/pub" || exit 1
		mkdir x && echo "mkdir: ok"
		mkdir x/y && rmdir x/y && echo "rmdir nested: ok"
		rmdir x && echo "rmdir: ok"
		echo hi >g && mv g h && echo "create, rename: ok"
		rm h && echo "unlink: ok"
		cat ../d/f
		echo more >>../d/f 2>/dev/null || echo "append to a root file: refused"
		ls -a' sh "$U" 2>&1
}

@test "other uid: a process dropped to nobody works where the union lets it, as on overlayfs" {
	use_union shim
	local shim
	shim=$(scenario) || { echo "$shim"; false; }
	local before
	before=$(snapshot "$LOWER")
	make_layers
	mkdir -p "$LOWER/d"
	echo f >"$LOWER/d/f"
	chmod 755 "$ROOT" "$LOWER" "$UPPER" "$WORK" "$TARGET"
	use_union overlayfs
	BROKEN=()
	expect "the same answers" "$(scenario)" "$shim"
	verdict
	[ "$before" = "$(snapshot "$LOWER")" ]
}

@test "other uid: #state is shared with every uid; an unreadable one does not stop a process" {
	use_union shim
	in_union /bin/true
	[ "$(stat -c %a "$WORK/#state")" = 666 ]
	in_union sh -c 'mkdir "$1/pub" && chmod 777 "$1/pub"' sh "$TARGET"
	run as_nobody sh -c 'cat "$1/d/f" && echo x >"$1/pub/n" && rm "$1/pub/n" && echo done' sh "$TARGET"
	[ "$status" -eq 0 ]
	[ "$output" = $'f\ndone' ]
	# a state an older version made private to root
	chmod 600 "$WORK/#state"
	run as_nobody sh -c 'cat "$1/d/f" && mkdir "$1/pub/m" && rmdir "$1/pub/m" && echo done' sh "$TARGET"
	[ "$status" -eq 0 ]
	[ "$output" = $'f\ndone' ]
	# readable, not writable: mapped for reading; the process's own
	# changes, which it cannot announce, still reach its own lookups
	chmod 644 "$WORK/#state"
	run as_nobody bash -c 'cat "$1/d/f" && [ ! -e "$1/pub/n" ] && echo x >"$1/pub/n" &&
		[ -e "$1/pub/n" ] && mkdir "$1/pub/nd" && [ -d "$1/pub/nd" ] && echo done' sh "$TARGET"
	[ "$status" -eq 0 ]
	[ "$output" = $'f\ndone' ]
}

# Another's objects in a lower, a rootless union (upper and work dir the
# caller's own): each change checked as the kernel checks it on
# overlayfs, against the lower object's owner and mode, before anything
# is copied up.
others_layers() {
	mkdir -p "$LOWER/mine" "$LOWER/d" "$LOWER/st" "$LOWER/pub" "$LOWER/dm"
	echo r >"$LOWER/rootf"
	echo o >"$LOWER/ro" && chmod 444 "$LOWER/ro"
	echo w >"$LOWER/pub/wr" && chmod 666 "$LOWER/pub/wr"
	echo p >"$LOWER/pub/rootf"
	echo x >"$LOWER/d/x"
	echo f >"$LOWER/d/f"
	echo m >"$LOWER/mine/f"
	echo g >"$LOWER/mine/g" && chmod 444 "$LOWER/mine/g"
	echo s >"$LOWER/st/rootfile"
	echo n >"$LOWER/st/nobf"
	mkdir -p "$LOWER/mine_ro" "$LOWER/ro2/sub" && echo r >"$LOWER/mine_ro/f"
	echo r >"$LOWER/ro2/r"
	mkdir -p "$LOWER/ro3" "$LOWER/ro4" && echo r >"$LOWER/ro3/r" && echo r >"$LOWER/ro4/r"
	chown -R 65534:65534 "$LOWER/mine" "$LOWER/st/nobf" "$LOWER/mine_ro" "$LOWER/ro2" \
		"$LOWER/ro3" "$LOWER/ro4"
	chmod 555 "$LOWER/ro4"
	# made read-only by its owner (chmod a-w); one with a writable dir below
	chmod 555 "$LOWER/mine_ro" "$LOWER/ro2"
	chmod 444 "$LOWER/ro2/r"
	chmod 1777 "$LOWER/st"
	chmod 777 "$LOWER/pub"
	chown 65534:65534 "$UPPER" "$WORK"
	cat >"$ROOT/others.py" <<'PY'
import errno, os, struct, sys
os.chdir(sys.argv[1])
def t(name, f, *a):
    try:
        r = f(*a)
        if isinstance(r, int) and name.startswith("open"):
            os.close(r)
        print(name, "OK")
    except OSError as e:
        print(name, errno.errorcode[e.errno])
def fd_chmod(p, m):
    fd = os.open(p, os.O_RDONLY)
    try:
        os.fchmod(fd, m)
    finally:
        os.close(fd)
t("open-append another's", os.open, "rootf", os.O_WRONLY | os.O_APPEND)
t("open-trunc read-only mode", os.open, "ro", os.O_RDONLY | os.O_TRUNC)
t("truncate another's", os.truncate, "rootf", 0)
t("open-write own 444", os.open, "mine/g", os.O_WRONLY)
t("open-write own", os.open, "mine/f", os.O_WRONLY)
t("chmod another's", os.chmod, "rootf", 0o600)
t("fchmod another's", fd_chmod, "rootf", 0o600)
t("chown another's", os.chown, "rootf", -1, 65534)
t("chown own to own group", os.chown, "mine/f", -1, 65534)
t("chown another's to -1 -1", os.chown, "pub/rootf", -1, -1)
t("chmod own", os.chmod, "mine/f", 0o600)
t("utime-now another's", os.utime, "rootf", None)
t("utime-given writable", os.utime, "pub/wr", (1, 1))
t("utime-now writable", os.utime, "pub/wr", None)
t("xattr another's", os.setxattr, "rootf", "user.x", b"1")
t("xattr writable", os.setxattr, "pub/wr", "user.x", b"1")
t("create in another's dir", os.open, "d/new", os.O_WRONLY | os.O_CREAT, 0o644)
t("mkdir in another's dir", os.mkdir, "d/sub")
t("symlink in another's dir", os.symlink, "x", "d/sl")
t("mkfifo in another's dir", os.mkfifo, "d/ff")
t("unlink in another's dir", os.unlink, "d/x")
t("rename out of another's dir", os.rename, "d/x", "pub/x")
t("rename into another's dir", os.rename, "pub/rootf", "d/y")
t("rename in a world dir", os.rename, "pub/rootf", "pub/rootf2")
t("unlink another's in sticky", os.unlink, "st/rootfile")
t("rename another's in sticky", os.rename, "st/rootfile", "st/z")
t("unlink own in sticky", os.unlink, "st/nobf")
# a POSIX ACL (user::rw-, group::r--, other::r--): only the owner sets one
acl = struct.pack("<I", 2) + b"".join(struct.pack("<HHI", tag, perm, 0xffffffff)
                                      for tag, perm in ((1, 6), (4, 4), (0x20, 4)))
t("acl another's", os.setxattr, "rootf", "system.posix_acl_access", acl)
t("acl own", os.setxattr, "mine/f", "system.posix_acl_access", acl)
fd = os.open("rootf", os.O_RDONLY)
t("futimens-now another's", os.utime, fd, None)
t("futimens-given another's", os.utime, fd, (2, 2))
t("fchown another's", os.fchown, fd, -1, 65534)
os.close(fd)
t("link another's", os.link, "rootf", "pub/hl")
t("link own", os.link, "mine/f", "pub/hl2")
t("create in own read-only dir", os.open, "mine_ro/new", os.O_WRONLY | os.O_CREAT, 0o644)
t("unlink in own read-only dir", os.unlink, "mine_ro/f")
t("chmod own read-only dir", os.chmod, "mine_ro", 0o755)
t("create in it then", os.open, "mine_ro/new", os.O_WRONLY | os.O_CREAT, 0o644)
# own read-only objects: a copy-up keeps their inode number and mode, and
# a read-only dir takes what is placed below it
def same_ino(name, f, path, *a):
    before = os.lstat(path).st_ino
    t(name, f, path, *a)
    print(name, "ino kept" if os.lstat(path).st_ino == before else "ino changed")
same_ino("touch own read-only file", os.utime, "ro2/r", None)
same_ino("chmod own read-only file", os.chmod, "ro2/r", 0o400)
t("create below own read-only dir", os.open, "ro2/sub/new", os.O_WRONLY | os.O_CREAT, 0o644)
same_ino("touch own read-only dir", os.utime, "ro2", None)
t("create in own read-only dir", os.open, "ro2/new", os.O_WRONLY | os.O_CREAT, 0o644)
t("unlink in own dir", os.unlink, "ro3/r")
t("chmod it read-only", os.chmod, "ro3", 0o555)
t("rmdir it, emptied", os.rmdir, "ro3")
t("rename own read-only dir", os.rename, "ro4", "ro4b")
t("move another's dir", os.rename, "dm", "pub/dm")
t("move own dir", os.rename, "mine", "pub/mine")
# a read-only dir of one's own (upper alone) moved over a removed lower
# name: its opaque mark goes inside it
t("mkdir own new dir", os.mkdir, "pub/nd")
t("make it read-only", os.chmod, "pub/nd", 0o555)
t("unlink a lower file", os.unlink, "pub/wr")
t("rename the read-only dir over it", os.rename, "pub/nd", "pub/wr")
PY
	chmod 644 "$ROOT/others.py"
}

# The upper's names, whiteouts in either form as "NAME (whiteout)";
# opaque marks left out (overlayfs's are xattrs, which no listing shows).
upper_names() {
	(cd "$UPPER" && find . -mindepth 1 ! -name .wh..wh..opq -printf '%p %y %m %s\n') |
		sed -E 's#^(.*)/\.wh\.([^/ ]*) f [0-7]+ 0$#\1/\2 (whiteout)#;
			s#^(.*) c [0-7]+ 0$#\1 (whiteout)#' | LC_ALL=C sort
}

# (Owners are left out: a copy made by nobody is nobody's, where
# overlayfs copies with the mounter's credentials and keeps the owner:
# README "Known limits".)
others_scenario() {
	as_nobody /usr/bin/python3 "$ROOT/others.py" "$U" 2>&1
	"${RUN[@]}" sh -c 'cd "$1" && find . -printf "%p %y %m %s\n"' sh "$U" | LC_ALL=C sort
	upper_names
}

@test "other uid: changes to another's lower objects are refused before any copy-up, as on overlayfs" {
	[ -x /usr/bin/python3 ] || skip "/usr/bin/python3 missing"
	others_layers
	local before
	before=$(snapshot "$LOWER")
	use_union shim
	local shim
	shim=$(others_scenario) || { echo "$shim"; false; }
	echo "$shim"
	[ "$before" = "$(snapshot "$LOWER")" ]
	make_layers
	chmod 755 "$ROOT" "$LOWER" "$UPPER" "$WORK" "$TARGET"
	others_layers
	OVL_OPTS=index=on,xino=on,redirect_dir=on use_union overlayfs
	BROKEN=()
	expect "the same answers, the same union and upper after" "$(others_scenario)" "$shim"
	verdict
}
