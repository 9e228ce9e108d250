#!/usr/bin/env python3
"""gen_ops.py: seeded lower trees and shell write sequences for the
write-path differential test (tests/bats/ops_differential.bats).

For each seed it writes, under OUT/sSEED/:
  c1/ c2/    two identical copies of the lower layers (l1 = top lower,
             l2 = bottom lower when there are two): one for kernel
             overlayfs, one for the shim
  lowerdirs  "l1" or "l1:l2" (topmost first, relative to a copy)
  ops.sh     the operations, run as `sh ops.sh ROOT` (cd into ROOT first);
             each op is followed by `echo "step N rc=$?"`; read ops
             (cat, ls, readlink, test) print to stdout too; stderr is noise
             (tools and overlayfs word their errors differently); an op
             that names a name of a family (below) or a dir above one is
             followed by a `find NAME... -maxdepth 0 -printf '@\t%i...'`
             of the family names (st_ino, st_nlink, type)
  stable     the union's names ("./PATH") that no op can remove or
             replace (see Ops.stable): their st_ino must stay

The lower layers are small (about 20-40 entries): nested dirs, files of
several sizes and modes, relative symlinks (some dangling), and with two
lowers: merged dirs, files shadowed by the top lower, a dir over a file,
a char-device 0/0 whiteout and a trusted.overlay.opaque dir in the top
lower (both forms the shim reads; the kernel reads them too). Those two
need root, as does mounting overlayfs, the oracle. Lower hard links: in
the bottom lower 1-3 files, in the top lower 0-1, get one or two more
names, in the same dir or another dir of that layer; the bottom's are
made before the top lower, so the top may shadow or white out some of
those names (a hidden name still counts in st_nlink, on overlayfs and
under the shim).

The op sequence keeps a rough model of the union (kinds only) so that its
paths hit lower-only files, names created earlier in the sequence, merged
dirs, names removed earlier (whiteouts), names created again over them
(opaque dirs), names of hard-link families (lower hard links, ln, cp -a
of several names of one; a choice that can take one does so a quarter
of the time), and names that do not exist (ops that fail); short chains
(remove a lower dir, make it again, list it; empty a merged dir by a glob,
rmdir it; remove a lower file, write it, read it) make sure each sequence
has whiteouts with something below them. The model is only for choosing
paths; kernel overlayfs decides what is right.

Symlinks are relative and climb at most MAX_UP levels; mv and cp can
carry one to a shallower dir, where it leaves the root: the test puts
each root under MAX_UP+2 empty dirs, built alike for overlayfs and shim.

Left out on purpose (the outcome could differ for reasons that are not
the union's semantics): dir sizes and times; inode numbers as such (the
test compares which names share one) and dirs' link counts; absolute
symlinks (they would reach different real dirs);
`mv`/`cp` with `-i`/`-u` (time-based); `cp -a` of a dir into itself (what
it copies before it notices depends on readdir order, which differs
between filesystems).
"""
import argparse
import os
import posixpath
import random
import shlex
import stat
import sys

FILE, DIR, LINK, WHITEOUT = "f", "d", "l", "w"
HARD = "h"      # payload tag of a lower file's second name: (HARD, first)
NAMES = ["a", "b", "c", "src", "lib", "doc", "x", "y", "main.c", "util.h",
         "README", "sp ace", "n1", "n2", "data"]
FMODES = [0o644, 0o644, 0o644, 0o755, 0o600, 0o444, 0o640]
DMODES = [0o755, 0o755, 0o755, 0o700, 0o775, 0o750]
CHMODS = ["600", "644", "755", "700", "444", "750", "640", "711", "000",
          "u+x", "go-r", "a+w"]
# Link texts climb at most this many levels: moved or copied to a
# shallower dir, a link may leave the root, into dirs the test builds the
# same on both sides (see ops_differential.bats).
MAX_UP = 6
TEXT = bytes(b"abcdefgh \n"[i % 10] for i in range(256))  # bytes -> text
WORDS = ["alpha", "beta", "gamma", "delta", "eps", "zeta", "eta", "theta"]


def parent(p):
    return p.rsplit("/", 1)[0] if "/" in p else ""


def base(p):
    return p.rsplit("/", 1)[-1]


def join(d, n):
    return d + "/" + n if d else n


def q(p):
    return shlex.quote(p) if p else "."


# ---------------------------------------------------------------- lowers
class Lowers:
    """The lower layers as change sets: layers[0] is the top lower.
    Entries: path -> (kind, payload, mode). DIR payload: opaque flag;
    FILE payload: bytes; LINK payload: target; WHITEOUT: None."""

    def __init__(self, rnd, nlower):
        self.rnd = rnd
        self.layers = [{}]
        self.bottom(self.layers[0], rnd.randrange(20, 34))
        # before the top lower is made, so that it may shadow or white
        # out some of these names (they still count in st_nlink)
        self.hardlinks(self.layers[0], {}, rnd.randrange(1, 4))
        if nlower == 2:
            self.layers.insert(0, {})
            self.top(self.layers[0], rnd.randrange(6, 12))
            self.hardlinks(self.layers[0], self.layers[1], rnd.randrange(0, 2))

    def content(self):
        r = self.rnd
        n = r.choice([0, 1, 7, 60, 300, 5000])
        body = r.randbytes(n).translate(TEXT)
        return b"%d:%s" % (r.randrange(1 << 20), body)

    def free(self, d, *taken_in):
        taken = {base(p) for T in taken_in for p in T if p and parent(p) == d}
        cands = [n for n in NAMES if n not in taken]
        if not cands or self.rnd.random() < 0.15:
            return "g%d" % self.rnd.randrange(1000)
        return self.rnd.choice(cands)

    def ensure(self, L, d):
        if d and d not in L:
            self.ensure(L, parent(d))
            L[d] = (DIR, False, self.rnd.choice(DMODES))

    def new_entry(self, L, d, view, kind):
        p = join(d, self.free(d, L, view))
        if p in L or p in view:
            return None
        self.ensure(L, d)
        if kind == DIR:
            L[p] = (DIR, False, self.rnd.choice(DMODES))
        else:
            L[p] = (FILE, self.content(), self.rnd.choice(FMODES))
        return p

    def bottom(self, L, n):
        r = self.rnd
        while len(L) < n:
            ds = [""] + [p for p, e in L.items() if e[0] == DIR and
                         p.count("/") < 3]
            d = r.choice(sorted(ds))
            self.new_entry(L, d, {}, DIR if r.random() < 0.3 else FILE)
        for _ in range(r.randrange(1, 4)):
            ds = [""] + [p for p, e in L.items() if e[0] == DIR]
            d = r.choice(sorted(ds))
            p = join(d, self.free(d, L))
            if p not in L:
                L[p] = (LINK, self.link_target(L, d), 0)

    def top(self, L, n):
        """Changes over the bottom lower: merged dirs, shadowed files,
        whiteouts, an opaque dir, a dir over a file, new entries."""
        r = self.rnd
        below = self.layers[1]

        def free_of(p):         # nothing in L already decides P
            a = p
            while a:
                e = L.get(a)
                if e is not None and (e[0] != DIR or e[1] or a == p):
                    return False
                a = parent(a)
            return True

        for _ in range(n):
            cands = sorted(p for p in below if free_of(p))
            if not cands:
                break
            p = r.choice(cands)
            kind = below[p][0]
            x = r.random()
            if kind == DIR and x < 0.5:
                self.ensure(L, p)                   # merged
                self.new_entry(L, p, below, FILE if r.random() < 0.7 else DIR)
            elif kind == DIR and x < 0.7 and any(parent(c) == p for c in below):
                self.ensure(L, parent(p))
                L[p] = (DIR, True, r.choice(DMODES))    # opaque
                self.new_entry(L, p, {}, FILE)
            elif kind == DIR and x < 0.8 or kind != DIR and x < 0.3:
                self.ensure(L, parent(p))
                L[p] = (WHITEOUT, None, 0)
            elif kind == FILE and x < 0.5:
                self.ensure(L, parent(p))
                L[p] = (DIR, False, r.choice(DMODES))   # dir over a file
                self.new_entry(L, p, {}, FILE)
            elif kind == FILE:
                self.ensure(L, parent(p))
                L[p] = (FILE, self.content(), r.choice(FMODES))
            else:
                self.new_entry(L, parent(p), below, FILE)
        if r.random() < 0.5:
            L[join("", self.free("", L))] = (LINK, self.link_target(L, ""), 0)

    def hardlinks(self, L, below, n):
        """Give N files of layer L one or two more names in L: in the
        same dir or another dir of L. A name's entry is (FILE, (HARD,
        first name), mode); render() links it to the first name."""
        r = self.rnd
        files = sorted(p for p, e in L.items()
                       if e[0] in (FILE, LINK) and not isinstance(e[1], tuple))
        dirs = [""] + sorted(p for p, e in L.items() if e[0] == DIR)
        for _ in range(n):
            if not files:
                return
            src = r.choice(files)
            files.remove(src)
            for _ in range(r.choice([1, 1, 2])):
                d = parent(src) if r.random() < 0.5 else r.choice(dirs)
                p = join(d, self.free(d, L, below))
                if p not in L:
                    L[p] = (L[src][0], (HARD, src), L[src][2])

    def families(self, view):
        """Lists of names in the union that are one lower file (the
        names of a lower file that the union still shows)."""
        out = []
        for i, L in enumerate(self.layers):
            fam = {}
            for p, (k, pay, _m) in L.items():
                if isinstance(pay, tuple):
                    fam.setdefault(pay[1], [pay[1]]).append(p)
            for names in fam.values():
                vis = sorted(p for p in names if view.get(p) == (L[names[0]][0], i))
                if vis:
                    out.append(vis)
        return sorted(out)

    def link_target(self, L, d):
        """A relative target inside the root: a sibling, something one
        level up, or a name that does not exist."""
        r = self.rnd
        ents = [p for p, e in L.items() if p and e[0] in (FILE, DIR)]
        if ents and r.random() < 0.75:
            return posixpath.relpath(r.choice(sorted(ents)), d or ".")
        return "missing-%d" % r.randrange(10)

    def union(self):
        """path -> (kind, layer index) of the union of self.layers."""
        view = {}

        def walk(d, idxs):
            names = {}
            for i in idxs:
                for p, ent in self.layers[i].items():
                    if p and parent(p) == d and p not in names:
                        names[p] = (ent[0], i)
            for p, (k, i) in sorted(names.items()):
                if k == WHITEOUT:
                    continue
                view[p] = (k, i)
                if k != DIR:
                    continue
                below = []
                for j in idxs:
                    if j < i:
                        continue
                    ent = self.layers[j].get(p)
                    if ent is None:
                        continue
                    if ent[0] != DIR:
                        break
                    below.append(j)
                    if ent[1]:
                        break       # opaque: nothing further down
                walk(p, below)
        walk("", list(range(len(self.layers))))
        return view

    def render(self, out):
        names = ["l%d" % (i + 1) for i in range(len(self.layers))]
        for L, name in zip(self.layers, names):
            root = os.path.join(out, name)
            os.makedirs(root, exist_ok=True)
            os.chmod(root, 0o755)
            dirs, hard = [], []
            for path in sorted(L, key=lambda p: (p.count("/"), p)):
                kind, pay, mode = L[path]
                full = os.path.join(root, path)
                if isinstance(pay, tuple):
                    hard.append((os.path.join(root, pay[1]), full))
                elif kind == DIR:
                    os.makedirs(full, exist_ok=True)
                    dirs.append((full, mode))
                    if pay:
                        os.setxattr(full, "trusted.overlay.opaque", b"y",
                                    follow_symlinks=False)
                elif kind == FILE:
                    with open(full, "wb") as f:
                        f.write(pay)
                    os.chmod(full, mode)
                elif kind == LINK:
                    os.symlink(pay, full)
                else:
                    os.mknod(full, stat.S_IFCHR | 0o000, os.makedev(0, 0))
            for first, full in hard:
                os.link(first, full, follow_symlinks=False)
            for full, mode in dirs:
                os.chmod(full, mode)
        return ":".join(names)


# ---------------------------------------------------------------- model
class Model:
    """What the union should roughly show: path -> kind, plus where each
    name came from. Only steers the choice of paths."""

    def __init__(self, rnd, view, hidden, links, families=()):
        self.rnd = rnd
        self.links = dict(links)  # path -> link text, where known
        self.kind = {"": DIR}
        self.lower = set()      # paths that exist in a lower layer
        for p, (k, _i) in view.items():
            self.kind[p] = k
            self.lower.add(p)
        self.merged = {p for p, (k, i) in view.items() if k == DIR}
        self.gone = set(hidden)  # lower names removed (whiteouts)
        self.created = set()    # names made by the sequence
        self.recent = []        # paths touched lately, for chains of ops
        # names that should be one file (lower hard links, ln, cp -a of
        # several of them): path -> family number
        self.fam = {}
        self.nfam = 0
        for names in families:
            self.nfam += 1
            for p in names:
                self.fam[p] = self.nfam

    def exists(self, p):
        return p in self.kind

    def is_dir(self, p):
        return self.kind.get(p) == DIR

    def children(self, d):
        return sorted(p for p in self.kind if p and parent(p) == d)

    def subtree(self, p):
        return [x for x in self.kind if x == p or x.startswith(p + "/")]

    def touch(self, p):
        self.recent = ([p] + [x for x in self.recent if x != p])[:6]

    def add(self, p, k):
        self.kind[p] = k
        self.fam.pop(p, None)
        self.created.add(p)
        self.touch(p)

    def remove(self, p):
        for x in self.subtree(p):
            del self.kind[x]
            self.fam.pop(x, None)
            if x in self.lower:
                self.gone.add(x)
        self.touch(p)

    def copy(self, src, dst, same=False):
        """SRC's subtree again at DST. SAME (mv): the names are the same
        files, in their families; else (cp -a) copies of names of one
        family make a new family of their own."""
        new = {}
        for x in sorted(self.subtree(src)):
            y = dst + x[len(src):]
            self.add(y, self.kind[x])
            f = self.fam.get(x)
            if f is None:
                continue
            if not same:
                if f not in new:
                    self.nfam += 1
                    new[f] = self.nfam
                f = new[f]
            self.fam[y] = f
        if not same:            # a copy alone in its family is no family
            for f in new.values():
                ys = [y for y, g in self.fam.items() if g == f]
                if len(ys) == 1:
                    del self.fam[ys[0]]

    def join_family(self, src, dst):
        if src not in self.fam:
            self.nfam += 1
            self.fam[src] = self.nfam
        self.fam[dst] = self.fam[src]

    def same_file(self, a, b):
        return a in self.fam and self.fam[a] == self.fam.get(b)

    def tracked(self, most=8):
        """Names of families, for the checks after each step."""
        return sorted(self.fam, key=lambda p: (self.fam[p], p))[:most]

    # -- choosing paths --------------------------------------------------
    def pick(self, cands):
        cands = sorted(set(cands))
        if not cands:
            return None
        r = self.rnd
        rec = [p for p in self.recent if p in cands]
        if rec and r.random() < 0.35:
            return r.choice(rec)
        fam = [p for p in cands if p in self.fam]
        if fam and r.random() < 0.25:
            return r.choice(fam)
        low = [p for p in cands if p in self.lower]
        new = [p for p in cands if p not in self.lower]
        x = r.random()
        if low and x < 0.5:
            return r.choice(low)
        if new and x < 0.8:
            return r.choice(new)
        return r.choice(cands)

    def of(self, *kinds):
        return [p for p, k in self.kind.items() if p and k in kinds]

    def a_dir(self, root_ok=True):
        ds = self.of(DIR) + ([""] if root_ok else [])
        m = [d for d in ds if d in self.merged]
        if m and self.rnd.random() < 0.3:
            return self.rnd.choice(sorted(m))
        return self.pick(ds) if self.rnd.random() < 0.85 else ""

    def missing(self):
        """A path that does not exist: a removed lower name, a name under
        a file, a name under a missing dir, or just a new name."""
        r = self.rnd
        x = r.random()
        gone = [p for p in self.gone if not self.exists(p)]
        if gone and x < 0.4:
            return r.choice(sorted(gone))
        files = self.of(FILE)
        if files and x < 0.55:
            return join(r.choice(sorted(files)), "sub")
        if x < 0.7:
            return join(self.a_dir(), "nodir/" + r.choice(NAMES))
        return self.new_name()

    def new_name(self, d=None):
        """A name that does not exist now: often one removed earlier
        (so creating it lands on a whiteout)."""
        r = self.rnd
        gone = [p for p in self.gone if not self.exists(p) and
                self.is_dir(parent(p))]
        if d is None and gone and r.random() < 0.4:
            return r.choice(sorted(gone))
        d = self.a_dir() if d is None else d
        for _ in range(20):
            n = r.choice(NAMES) if r.random() < 0.7 else "new%d" % r.randrange(100)
            if not self.exists(join(d, n)):
                return join(d, n)
        return join(d, "new%d" % r.randrange(1000, 2000))

    def any_existing(self):
        return self.pick(self.of(FILE, DIR, LINK))

    def target(self, want):
        """A path for an op on an existing WANT kind (FILE, DIR, LINK),
        now and then something else: a wrong kind or a missing name."""
        r = self.rnd
        x = r.random()
        if x < 0.78:
            p = self.pick(self.of(*want))
            if p is not None:
                return p
        if x < 0.9:
            p = self.any_existing()
            if p is not None:
                return p
        return self.missing()

    def resolve(self, p, depth=0):
        """Follow a symlink at P (last component only) in the model.
        Returns the path it names (maybe missing) or None if unknown."""
        if self.kind.get(p) != LINK or depth > 5:
            return p
        t = self.links.get(p)
        if t is None:
            return None
        full = posixpath.normpath(posixpath.join(parent(p), t))
        if full.startswith(".."):
            return None
        return self.resolve("" if full == "." else full, depth + 1)


# ---------------------------------------------------------------- ops
class Ops:
    def __init__(self, rnd, model):
        self.r = rnd
        self.m = model
        self.lines = []
        self.n = 0
        self.mutating = 0
        self.ops = []           # the mutating commands of the op running
        self.hit = set()        # paths an op may have removed or replaced
        self.hitbase = set()    # base names of mv/cp sources

    def emit(self, cmd, mutating=True):
        self.n += 1
        self.mutating += mutating
        self.lines.append('%s; echo "step %d rc=$?"' % (cmd, self.n))
        if not mutating:
            return
        self.ops.append(cmd)
        prog, paths = operands(cmd)
        if prog in ("rm", "rmdir", "mv"):
            self.hit.update(paths)
        elif prog == "cp":
            self.hit.update(paths[1:])
        if prog in ("mv", "cp"):
            self.hitbase.add(base(paths[0]))

    def stable(self, names):
        """Of NAMES (there before the sequence), those that no op could
        have removed or replaced: no path that rm, rmdir or mv name, nor
        the destination of cp, is one of them or a dir above, and no
        mv/cp source has the base name of one of them or of a dir above
        (it could have landed there, through a dir or a link to one).
        ln, ln -s, mkdir and writes never replace an existing name."""
        out = []
        for p in names:
            if any(p == t or p.startswith(t + "/") for t in self.hit if t):
                continue
            if any(c in self.hitbase for c in p.split("/")):
                continue
            out.append(p)
        return out

    def checks(self, before):
        """After a mutating op that named a name of a family (before or
        after it) or a dir above one: st_ino, st_nlink and type of each
        such name that exists (one find; ops_ids.awk in the test turns
        the numbers into which of them are one file)."""
        m = self.m
        now = m.tracked()
        names = now + [p for p in before if p not in now]
        if not names:
            return
        toks = set()
        for cmd in self.ops:
            for t in operands(cmd)[1]:
                toks.add(t)
                r = m.resolve(t)
                if r:
                    toks.add(r)
        if any(p == t or p.startswith(t + "/") for p in names for t in toks if t):
            self.lines.append("find %s -maxdepth 0 -printf '@\\t%%i\\t%%n\\t%%y\\t%%p\\n'" %
                              " ".join(q(p) for p in names))

    def text(self):
        r = self.r
        return " ".join(r.choice(WORDS) for _ in range(r.randrange(1, 5)))

    # each op: choose paths, emit the command, update the model when the
    # op should succeed

    def op_write(self, append=False):
        m = self.m
        p = m.target([FILE, LINK]) if self.r.random() < 0.65 else m.new_name()
        self.emit("printf '%%s\\n' %s %s %s" % (q(self.text()),
                                               ">>" if append else ">", q(p)))
        self.after_create_file(p)

    def after_create_file(self, p):
        m = self.m
        t = m.resolve(p)
        if t is None:
            return
        if m.kind.get(t) == FILE:
            m.touch(t)
            m.touch(p)
        elif not m.exists(t) and m.is_dir(parent(t)):
            m.add(t, FILE)

    def op_truncate(self):
        m = self.m
        p = m.target([FILE, LINK]) if self.r.random() < 0.7 else m.new_name()
        size = self.r.choice([0, 0, 3, 100, 9000])
        self.emit("truncate -s %d %s" % (size, q(p)))
        self.after_create_file(p)

    def op_touch(self):
        m = self.m
        p = m.target([FILE, DIR, LINK]) if self.r.random() < 0.6 else m.new_name()
        self.emit("touch %s" % q(p))
        self.after_create_file(p)

    def op_mkdir(self):
        m, r = self.m, self.r
        if r.random() < 0.25:
            d = m.a_dir()
            p = join(d, "%s/%s" % (r.choice(NAMES), r.choice(NAMES)))
            if r.random() < 0.3 and m.gone:
                p = join(r.choice(sorted(m.gone)), r.choice(NAMES))
            self.emit("mkdir -p %s" % q(p))
            parts = p.split("/")
            for i in range(1, len(parts) + 1):
                a = "/".join(parts[:i])
                if not m.exists(a):
                    if not m.is_dir(parent(a)):
                        break
                    m.add(a, DIR)
                elif not m.is_dir(a):
                    break
            return
        p = m.new_name() if r.random() < 0.8 else m.target([DIR, FILE])
        self.emit("mkdir %s" % q(p))
        if not m.exists(p) and m.is_dir(parent(p)):
            m.add(p, DIR)

    def op_rmdir(self):
        m = self.m
        ds = m.of(DIR)
        empty = [d for d in ds if not m.children(d)]
        x = self.r.random()
        if empty and x < 0.6:
            p = m.pick(empty)
        elif x < 0.85 and ds:
            p = m.pick(ds)
        else:
            p = m.target([FILE])
        self.emit("rmdir %s" % q(p))
        if m.is_dir(p) and not m.children(p):
            m.remove(p)

    def op_rm(self, force=False):
        m = self.m
        p = m.target([FILE, LINK])
        self.emit("rm %s%s" % ("-f " if force else "", q(p)))
        if m.kind.get(p) in (FILE, LINK):
            m.remove(p)

    def op_rmrf(self):
        m = self.m
        p = m.target([DIR]) if self.r.random() < 0.8 else m.target([FILE])
        if p == "":
            return self.op_rm()
        self.emit("rm -rf %s" % q(p))
        if m.exists(p):
            m.remove(p)

    def dest_for(self, src, into_ok=True):
        """A destination for mv/cp/ln: a new name (maybe over a whiteout),
        an existing name of the same or another kind, or a dir to move
        into (maybe another dir, maybe a merged one)."""
        m, r = self.m, self.r
        x = r.random()
        if x < 0.45:
            return m.new_name()
        if x < 0.6 and into_ok:
            return m.a_dir()
        if x < 0.85:
            same = m.of(m.kind.get(src, FILE))
            if same:
                return m.pick(same)
        if x < 0.95:
            return m.any_existing() or m.new_name()
        return m.missing()

    def final_dest(self, src, dst, no_target_dir=False):
        """Where SRC lands when named DST, as mv/cp/ln decide."""
        m = self.m
        if not no_target_dir:
            t = m.resolve(dst)
            if t is not None and m.is_dir(t) and m.exists(t):
                return join(t, base(src))
        return dst

    def op_mv(self):
        m, r = self.m, self.r
        if r.random() < 0.45:
            src = m.target([DIR])
        else:
            src = m.target([FILE, LINK])
        if src == "":
            src = m.target([FILE])
        dst = self.dest_for(src)
        tdir = r.random() < 0.15 and m.is_dir(src)
        self.emit("mv %s%s %s" % ("-T " if tdir else "", q(src), q(dst)))
        if not m.exists(src) or src == "":
            return
        fin = self.final_dest(src, dst, tdir)
        if fin == src or fin.startswith(src + "/") or not m.is_dir(parent(fin)):
            return
        if m.same_file(src, fin):
            return              # mv: 'src' and 'fin' are the same file
        sk, dk = m.kind[src], m.kind.get(fin)
        if dk is not None:
            if (sk == DIR) != (dk == DIR):
                return
            if dk == DIR and m.children(fin):
                return
            m.remove(fin)
        m.copy(src, fin, same=True)
        m.remove(src)

    def op_mvdir(self):
        """A dir renamed in place (what overlayfs does with redirect_dir=on,
        the shim with redirect records): one that exists below, often
        nested, to a new name in another dir; now and then its new parent
        is renamed at once, or it goes back to its old name."""
        m, r = self.m, self.r
        ds = [d for d in m.of(DIR) if d and d.count("/") < 4]
        merged = [d for d in ds if d in m.merged]
        if not ds:
            return self.op_mv()
        src = r.choice(sorted(merged)) if merged and r.random() < 0.6 else m.pick(ds)
        dst = m.new_name()
        if dst == src or dst.startswith(src + "/") or not m.is_dir(parent(dst)):
            return self.op_mv()
        self.emit("mv -T %s %s" % (q(src), q(dst)))
        m.copy(src, dst, same=True)
        m.remove(src)
        x = r.random()
        if x < 0.25 and m.exists(dst) and not m.exists(src) and m.is_dir(parent(src)):
            self.emit("mv -T %s %s" % (q(dst), q(src)))      # and back
            m.copy(dst, src, same=True)
            m.remove(dst)
        elif x < 0.5 and parent(dst) and "/" not in parent(dst):
            top = parent(dst)
            nt = m.new_name("")
            if nt != top and not nt.startswith(top + "/"):
                self.emit("mv -T %s %s" % (q(top), q(nt)))   # its parent
                m.copy(top, nt, same=True)
                m.remove(top)

    def op_cp(self):
        m, r = self.m, self.r
        src = m.target([DIR]) if r.random() < 0.4 else m.target([FILE, LINK])
        if src == "":
            src = m.target([FILE])
        dst = self.dest_for(src)
        fin = self.final_dest(src, dst)
        if m.is_dir(src) and (fin == src or fin.startswith(src + "/") or
                              dst.startswith(src + "/") or src == ""):
            # cp -a of a dir into itself: what gets copied before cp
            # notices depends on readdir order (differs between any two
            # filesystems), so its outcome is no test of the union
            dst = m.new_name(parent(src))
            fin = self.final_dest(src, dst)
        self.emit("cp -a %s %s" % (q(src), q(dst)))
        if not m.exists(src):
            return
        if fin == src or fin.startswith(src + "/") or not m.is_dir(parent(fin)):
            return
        sk, dk = m.kind[src], m.kind.get(fin)
        if dk is not None and (sk == DIR) != (dk == DIR) or m.same_file(src, fin):
            return
        m.copy(src, fin)

    def op_ln(self):
        m = self.m
        src = m.target([FILE, LINK])
        dst = self.dest_for(src)
        self.emit("ln %s %s" % (q(src), q(dst)))
        if m.kind.get(src) not in (FILE, LINK):
            return
        fin = self.final_dest(src, dst)
        if not m.exists(fin) and m.is_dir(parent(fin)):
            m.add(fin, m.kind[src])
            m.links[fin] = m.links.get(src)
            m.join_family(src, fin)
            m.touch(src)

    def op_symlink(self):
        m, r = self.m, self.r
        dst = m.new_name() if r.random() < 0.85 else m.target([FILE, LINK])
        d = parent(dst)
        ents = m.of(FILE, DIR)
        t = "dangling-%d" % r.randrange(10)
        if ents and r.random() < 0.75:
            rel = posixpath.relpath(m.pick(ents), d or ".")
            if rel.split("/").count("..") <= MAX_UP:
                t = rel
        self.emit("ln -s %s %s" % (q(t), q(dst)))
        fin = self.final_dest(t, dst)
        if not m.exists(fin) and m.is_dir(parent(fin)):
            m.add(fin, LINK)
            m.links[fin] = t if fin == dst else None

    def op_chmod(self):
        m = self.m
        p = m.target([FILE, DIR, LINK])
        self.emit("chmod %s %s" % (self.r.choice(CHMODS), q(p)))
        if m.exists(p):
            m.touch(p)

    # read ops: their stdout is compared too (intermediate states)
    def op_read(self):
        m, r = self.m, self.r
        x = r.random()
        if x < 0.35:
            p = m.target([FILE])
            self.emit("cat %s" % q(p), False)
        elif x < 0.55:
            p = m.target([DIR]) if r.random() < 0.9 else m.missing()
            self.emit("ls -A %s" % q(p or "."), False)
        elif x < 0.75:
            # readdir's own order (ls -U): a merged dir lists as overlayfs
            # lists it (the lowest layer's entries first)
            p = m.target([DIR]) if r.random() < 0.9 else m.missing()
            self.emit("ls -UA %s" % q(p or "."), False)
        elif x < 0.9:
            p = m.target([LINK])
            self.emit("readlink %s" % q(p), False)
        else:
            p = m.missing() if r.random() < 0.5 else m.any_existing()
            self.emit("test -e %s" % q(p or "."), False)

    # short chains on one lower name, so that every sequence has a few
    # whiteouts that matter (names with something below them)
    def op_chain(self):
        m, r = self.m, self.r
        ldirs = [d for d in m.of(DIR) if d in m.lower and m.children(d)]
        lfiles = [f for f in m.of(FILE) if f in m.lower]
        x = r.random()
        if ldirs and x < 0.4:
            # a dir removed, made again: opaque over what lay below
            d = r.choice(sorted(ldirs))
            self.emit("rm -rf %s" % q(d))
            m.remove(d)
            if r.random() < 0.5:
                self.emit("mkdir %s" % q(d))
                m.add(d, DIR)
            else:
                sub = join(d, r.choice(NAMES))
                self.emit("mkdir -p %s" % q(sub))
                m.add(d, DIR)
                m.add(sub, DIR)
            self.emit("ls -A %s" % q(d), False)
        elif ldirs and x < 0.6:
            # a merged dir emptied name by name (a glob: readdir of the
            # union), then removed
            d = r.choice(sorted(ldirs))
            self.emit("rm -rf %s/*" % q(d))
            for c in m.children(d):
                if not base(c).startswith("."):
                    m.remove(c)
            self.emit("rmdir %s" % q(d))
            if not m.children(d):
                m.remove(d)
        elif lfiles:
            # a file removed, written again, read
            f = r.choice(sorted(lfiles))
            self.emit("rm %s" % q(f))
            m.remove(f)
            self.emit("printf '%%s\\n' %s >%s %s" % (
                q(self.text()), ">" if r.random() < 0.3 else "", q(f)))
            m.add(f, FILE)
            self.emit("cat %s" % q(f), False)

    OPS = [("op_write", 12), ("op_append", 7), ("op_truncate", 5),
           ("op_touch", 5), ("op_mkdir", 9), ("op_rmdir", 5), ("op_rm", 9),
           ("op_rmf", 2), ("op_rmrf", 6), ("op_mv", 14), ("op_mvdir", 5), ("op_cp", 7),
           ("op_ln", 5), ("op_symlink", 4), ("op_chmod", 5), ("op_read", 6),
           ("op_chain", 6)]

    def op_append(self):
        self.op_write(append=True)

    def op_rmf(self):
        self.op_rm(force=True)

    def run(self, nmut):
        names = [n for n, _w in self.OPS]
        weights = [w for _n, w in self.OPS]
        while self.mutating < nmut:
            before = self.m.tracked()
            self.ops = []
            getattr(self, self.r.choices(names, weights)[0])()
            if self.ops:
                self.checks(before)
        # end with a look at what the sequence touched last
        for p in self.m.recent[:2]:
            if self.m.is_dir(p):
                self.emit("ls -A %s" % q(p), False)
            elif self.m.kind.get(p) == FILE:
                self.emit("cat %s" % q(p), False)


def operands(cmd):
    """The program of an op's command and the union paths it names: for
    `printf ... >F`, F; for `ln -s TEXT DST`, DST; a glob `D/*` as D."""
    t = shlex.split(cmd)
    prog, args = t[0], t[1:]
    if prog in ("printf", "truncate", "chmod") or prog == "ln" and "-s" in args:
        args = args[-1:]
    paths = []
    for a in args:
        if a.startswith("-") or a in (">", ">>"):
            continue
        a = a[:-2] if a.endswith("/*") else a
        paths.append("" if a == "." else a)
    return prog, paths


def lower_links(lowers):
    links = {}
    for L in reversed(lowers.layers):
        for p, (k, pay, _m) in L.items():
            if k == LINK:
                links[p] = L[pay[1]][1] if isinstance(pay, tuple) else pay
    return links


def generate(seed, nmut=None):
    rnd = random.Random(seed)
    lowers = Lowers(rnd, 2 if rnd.random() < 0.6 else 1)
    view = lowers.union()
    hidden = {p for L in lowers.layers for p in L
              if p not in view and parent(p) in view}
    fams = lowers.families(view)
    model = Model(rnd, view, hidden, lower_links(lowers), fams)
    ops = Ops(rnd, model)
    ops.run(nmut or rnd.randrange(25, 31))
    script = ["# gen_ops.py --seed %d: run as `sh ops.sh ROOT`" % seed,
              "# lower hard links seen in the union: %s" %
              (" | ".join(" ".join(q(p) for p in f) for f in fams) or "none"),
              "cd \"$1\" || exit 99",
              "export LC_ALL=C"] + ops.lines
    return lowers, "\n".join(script) + "\n", ops.stable(sorted(view))


def parse_seeds(spec):
    out = []
    for part in spec.split(","):
        if "-" in part:
            a, b = part.split("-")
            out.extend(range(int(a), int(b) + 1))
        elif part:
            out.append(int(part))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", required=True, help="e.g. 7 or 1-10 or 1,5,9")
    ap.add_argument("--out", help="write OUT/sSEED/{c1,c2,lowerdirs,ops.sh,stable}")
    ap.add_argument("--script", action="store_true",
                    help="print the op script of one seed to stdout")
    a = ap.parse_args()
    os.umask(0o022)
    for seed in parse_seeds(a.seeds):
        lowers, script, stable = generate(seed)
        if a.script:
            sys.stdout.write(script)
        if a.out:
            d = os.path.join(a.out, "s%d" % seed)
            for c in ("c1", "c2"):
                spec = lowers.render(os.path.join(d, c))
            with open(os.path.join(d, "lowerdirs"), "w") as f:
                f.write(spec + "\n")
            with open(os.path.join(d, "ops.sh"), "w") as f:
                f.write(script)
            with open(os.path.join(d, "stable"), "w") as f:
                f.write("".join("./%s\n" % p for p in stable))


if __name__ == "__main__":
    main()
