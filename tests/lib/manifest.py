#!/usr/bin/env python3
"""manifest.py DIR: a line per name below DIR (sorted by path bytes) with
what a commit must keep bit for bit: type, permission bits, contents
(sha256), symlink target, device number, user.* xattrs, and the hard-link
group (the least name sharing its inode; "-" when alone). Times and owners
are left out. Run it through the shim to record a union view."""
import hashlib
import os
import stat
import sys


def main():
    root = os.fsencode(sys.argv[1])
    rows, groups = [], {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            kind = stat.S_IFMT(st.st_mode)
            what = b""
            if stat.S_ISREG(st.st_mode):
                with open(p, "rb") as f:
                    what = hashlib.sha256(f.read()).hexdigest().encode()
            elif stat.S_ISLNK(st.st_mode):
                what = os.readlink(p)
            elif stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                what = b"%d,%d" % (os.major(st.st_rdev), os.minor(st.st_rdev))
            xattrs = b""
            if not stat.S_ISLNK(st.st_mode):
                names = sorted(n for n in os.listxattr(p, follow_symlinks=False)
                               if n.startswith("user."))
                xattrs = b",".join(n.encode() + b"=" + os.getxattr(p, n, follow_symlinks=False).hex().encode()
                                   for n in names)
            key = None
            if not stat.S_ISDIR(st.st_mode) and st.st_nlink > 1:
                key = (st.st_dev, st.st_ino)
                groups.setdefault(key, []).append(rel)
            rows.append((rel, kind, stat.S_IMODE(st.st_mode), what, xattrs, key))
    out = sys.stdout.buffer
    for rel, kind, mode, what, xattrs, key in sorted(rows):
        group = min(groups[key]) if key and len(groups[key]) > 1 else b"-"
        out.write(b"%r %o %o %s %s %s\n" % (rel, kind, mode, what, xattrs, group))


main()
