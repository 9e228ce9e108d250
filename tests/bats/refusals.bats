#!/usr/bin/env bats
# Promise (semantics.md "Copy-up", "Errors"): a call the kernel refuses
# answers the kernel's errno, in the kernel's order, and copies up what
# overlayfs copies up for it, no more (mostly nothing):
#  - link() of a dir: the new name's own errors first (its dir missing:
#    ENOENT; the name taken: EEXIST), then EPERM; neither the dir nor the
#    new name's dir is copied up (GNU ln calls link() and reads the errno);
#  - link() into or out of the union: a union is a mount of its own,
#    EXDEV (after the new name's errors), where a plain link would have put
#    an upper file under a name outside the union, or an outside file into
#    the upper; an O_TMPFILE file made in the union and linked through
#    /proc/self/fd/N or AT_EMPTY_PATH stays a link within it;
#  - open() of a dir for writing or truncating, O_CREAT without O_EXCL,
#    truncate() and fopen("r+", "w", "a") of a dir: EISDIR, the dir not
#    copied up (O_RDONLY|O_APPEND opens it; O_TMPFILE makes a file in it,
#    which copies it up on both);
#  - mknod() of a whiteout (a 0/0 character device): the new name's own
#    errors first (EEXIST, ENOENT, ENOTDIR; "name/": EEXIST or ENOENT),
#    then EPERM, its dir not copied up (made in the upper it would hide
#    the name instead);
#  - flags a call does not take (unlinkat, renameat2, utimensat) and
#    empty names: EINVAL and ENOENT before any lookup, nothing done;
#    utimensat through syscall() with a NULL path is the fd's own (glibc's
#    refuses that); O_PATH ignores O_CREAT; a getxattr of overlayfs's own
#    name answers the path's error first;
#  - rename() of a dir over a non-empty dir: ENOTEMPTY; over a dir with a
#    lower half nothing is copied up, over a dir of the upper alone the
#    source is copied up first (overlayfs leaves that copy: its real
#    rename is what fails).
# Each scenario prints the answers and then the upper dir's names; the
# shim's output must equal overlayfs's.

bats_require_minimum_version 1.5.0

load ../lib/common
load ../lib/oracle

# a dir that exists below is renamed in place, as the shim does
OVL_OPTS=index=on,redirect_dir=on

teardown() {
	unmount_union
}

refusal_layers() {
	make_layers
	mkdir -p "$LOWER/n2/x/y" "$LOWER/ld" "$LOWER/d1/x" "$LOWER/d2" "$LOWER/d3" \
		"$LOWER/ldfull/z" "$LOWER/r1/x" "$LOWER/r2/x"
	echo data >"$LOWER/f"
	echo out >"$ROOT/o4"
}

# scenario MODE: the answers of both halves, then the upper's names.
scenario() {
	refusal_layers
	use_union "$1"
	"${RUN[@]}" python3 - "$U" "$ROOT" <<'PY'
import errno, os, sys
u, root = sys.argv[1], sys.argv[2]
os.chdir(u)
os.mkdir("new8")
def name(e):
    return errno.errorcode.get(e, str(e))
def tell(what, f):
    try:
        f()
        print(what, "ok")
    except OSError as e:
        print(what, name(e.errno))
links = [("n2/x", "new8/x"), ("n2/x", "ld/x"), ("n2/x", "n2"), ("n2/x", "nope/x"),
         ("n2/x", root + "/out_dir"), ("f", root + "/out_f"), ("f", root + "/o4"),
         ("f", root + "/nodir/x"), (root + "/o4", "h"), (root + "/o4", "f"),
         (root + "/o4", "nope/h"), ("f", "new8/f"), ("f", "f2")]
for a, b in links:
    tell("link %s %s" % (a.replace(root, "ROOT"), b.replace(root, "ROOT")),
         lambda: os.link(a, b))
fd = os.open("ld", os.O_TMPFILE | os.O_RDWR, 0o644)
os.write(fd, b"tmp")
tell("link /proc/self/fd/N ld/t",
     lambda: os.link("/proc/self/fd/%d" % fd, "ld/t", follow_symlinks=True))
tell("link /proc/self/fd/N ROOT/out_t",
     lambda: os.link("/proc/self/fd/%d" % fd, root + "/out_t", follow_symlinks=True))
opens = [("O_RDONLY|O_TRUNC", os.O_RDONLY | os.O_TRUNC),
         ("O_RDONLY|O_APPEND", os.O_RDONLY | os.O_APPEND),
         ("O_WRONLY", os.O_WRONLY), ("O_RDWR", os.O_RDWR),
         ("O_WRONLY|O_CREAT", os.O_WRONLY | os.O_CREAT),
         ("O_RDONLY|O_CREAT", os.O_RDONLY | os.O_CREAT),
         ("O_CREAT|O_EXCL", os.O_RDONLY | os.O_CREAT | os.O_EXCL),
         ("O_TMPFILE", os.O_TMPFILE | os.O_RDWR)]
for what, fl in opens:
    for d in ["d1", "d2"]:
        tell("open %s %s" % (d, what), lambda: os.close(os.open(d, fl, 0o644)))
tell("truncate d3", lambda: os.truncate("d3", 0))
# a dir over a non-empty dir: ENOTEMPTY; one with a lower half is checked
# first (nothing copied), one of the upper alone by the real rename, after
# the source's copy-up (overlayfs's order: the copy stays)
os.makedirs("pu/x")
tell("rename r1 over the lower dir ldfull", lambda: os.rename("r1", "ldfull"))
tell("rename r2 over the upper dir pu", lambda: os.rename("r2", "pu"))
for m in ["r+", "w", "a"]:
    tell("fopen d3 " + m, lambda: open("d3", m).close())
import stat
for p in ["ld/wh", "new8/wh", "f", "nope/wh", "f/wh"]:
    tell("mknod %s c 0 0" % p,
         lambda: os.mknod(p, stat.S_IFCHR | 0o644, os.makedev(0, 0)))
tell("mknod new8/null c 1 3",
     lambda: os.mknod("new8/null", stat.S_IFCHR | 0o644, os.makedev(1, 3)))
for p in ["f/", "nope9/"]:
    tell("mknod %s c 0 0" % p,
         lambda: os.mknod(p, stat.S_IFCHR | 0o644, os.makedev(0, 0)))
# flags the kernel does not take, empty names: refused before any lookup,
# nothing done (unlinkat with a bad flag removed the name)
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
def c(what, rc):
    print(what, "ok" if rc >= 0 else name(ctypes.get_errno()))
AT_FDCWD = -100
c("unlinkat f 0x1000", libc.unlinkat(AT_FDCWD, b"f", 0x1000))
c("renameat2 f f9 NOREPLACE|EXCHANGE", libc.renameat2(AT_FDCWD, b"f", AT_FDCWD, b"f9", 3))
c("renameat2 f f9 0x100", libc.renameat2(AT_FDCWD, b"f", AT_FDCWD, b"f9", 0x100))
c("utimensat f 0x8000", libc.utimensat(AT_FDCWD, b"f", None, 0x8000))
c("rename '' x", libc.rename(b"", b"x"))
c("link '' x", libc.link(b"", b"x"))
c("unlink ''", libc.unlink(b""))
print("f still there", os.path.exists("f"))
# the kernel's utimensat of an fd (NULL path) through syscall()
fd = os.open("f", os.O_RDONLY)
c("syscall utimensat fd NULL", libc.syscall(280, fd, None, None, 0))
c("syscall utimensat AT_FDCWD NULL", libc.syscall(280, AT_FDCWD, None, None, 0))
os.close(fd)
# O_PATH takes no O_CREAT: a dir opens
tell("open d2 O_PATH|O_CREAT", lambda: os.close(os.open("d2", os.O_PATH | os.O_CREAT)))
# a union's own xattr name on a missing path: the path's error
tell("getxattr nope trusted.overlay.opaque",
     lambda: os.getxattr("nope", "trusted.overlay.opaque", follow_symlinks=False))
PY
	echo "--- upper"
	(cd "$UPPER" && find . -mindepth 1 ! -name '*.wh.*' | LC_ALL=C sort)
	echo "--- outside"
	(cd "$ROOT" && ls)
	unmount_union
}

@test "refused calls (link of a dir, links into or out of the union, write opens and truncates of a dir, a dir renamed over a full one) answer the kernel's errno and copy up what overlayfs copies up, no more (shim == overlayfs)" {
	need_overlay
	local ovl shim
	ovl=$(scenario overlayfs)
	shim=$(scenario shim)
	# the scenario asks what it claims
	grep -qx 'link n2/x new8/x EPERM' <<<"$ovl"
	grep -qx 'link f ROOT/out_f EXDEV' <<<"$ovl"
	grep -qx 'link ROOT/o4 h EXDEV' <<<"$ovl"
	grep -qx 'open d1 O_WRONLY EISDIR' <<<"$ovl"
	grep -qx 'mknod ld/wh c 0 0 EPERM' <<<"$ovl"
	grep -qx 'unlinkat f 0x1000 EINVAL' <<<"$ovl"
	grep -qx 'syscall utimensat fd NULL ok' <<<"$ovl"
	grep -qx 'rename r2 over the upper dir pu ENOTEMPTY' <<<"$ovl"
	[ "$ovl" = "$shim" ] || {
		diff <(echo "$ovl") <(echo "$shim")
		false
	}
}
