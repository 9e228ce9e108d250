#!/usr/bin/env python3
"""gen_layers.py: a seeded generator of overlay layer stacks for tests.

Each layer is built as a change set over the union of the layers below it,
the way overlayfs itself would have written it: new and rewritten files,
new dirs, symlinks, whiteouts of files and of whole dirs, opaque dirs over
dirs with subtrees, file<->dir type changes, and names whited out in one
layer and created again in a higher one. The union itself is not computed
here: kernel overlayfs is the oracle (tests/bats/differential.bats).

The same stack is rendered in two forms:
  overlay  whiteout = char device 0/0, opaque = trusted.overlay.opaque=y
  oci      whiteout = empty file .wh.NAME, opaque = file .wh..wh..opq

Layout under OUT (one form: OUT itself; --form both: OUT/overlay, OUT/oci):
  upper/  l1/ (top lower) ... lN/ (bottom lower)
  lowerdirs   one line, "l1:l2:...:lN" (topmost first)
Char devices and trusted.* xattrs need root (or CAP_MKNOD/CAP_SYS_ADMIN).
"""
import argparse
import os
import random
import stat
import sys

FILE, DIR, LINK, WHITEOUT = "f", "d", "l", "w"
NAMES = ["a", "b", "c", "d", "e", "src", "lib", "doc", "bin", "x", "y", "z",
         "data", "conf", "tmp", "Makefile", "main.c", "util.h", "README",
         "n0", "n1", "n2", "n3", "n4", "n5", "n6", "n7", "sp ace", "dash-1",
         "dot.ted", "UPPER", "long_name_" + "q" * 40]


class Layer:
    """One layer's change set: path -> (kind, payload). Dirs carry
    payload True when opaque. Ancestors of every entry are DIR entries."""

    def __init__(self):
        self.ent = {}


class Stack:
    def __init__(self, rnd):
        self.rnd = rnd
        self.layers = []      # bottom first while building
        # The union view below the layer being built plus its changes:
        # path -> [kind, from_below]
        self.view = {"": [DIR, True]}
        self.deleted = []     # paths whited out in some layer
        self.deleted_below = 0  # how many of them in finished layers

    # -- helpers on the view ------------------------------------------
    def children(self, d):
        pre = d + "/" if d else ""
        return [p for p in self.view if p.startswith(pre) and p != d and
                "/" not in p[len(pre):]]

    def subtree(self, d, view=None):
        view = self.view if view is None else view
        pre = d + "/"
        return [p for p in view if p == d or p.startswith(pre)]

    def dirs(self):
        return [p for p, (k, _) in self.view.items() if k == DIR]

    def of_kind(self, kind, below_only=False):
        return [p for p, (k, b) in self.view.items()
                if k == kind and p and (b or not below_only)]

    def depth(self, p):
        return p.count("/") + 1 if p else 0

    def free_name(self, d):
        taken = {p.rsplit("/", 1)[-1] for p in self.children(d)}
        free = [n for n in NAMES if n not in taken]
        if not free or self.rnd.random() < 0.3:
            free = ["g%d" % self.rnd.randrange(100000)]
        return self.rnd.choice(free)

    def join(self, d, n):
        return d + "/" + n if d else n

    # -- edits of the current layer ------------------------------------
    def ensure_parents(self, L, path):
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            a = "/".join(parts[:i])
            if a not in L.ent:
                L.ent[a] = (DIR, False)

    def content(self):
        r = self.rnd
        n = r.choice([0, 1, 5, 17, 100, 600, 3000])
        return ("%d:" % r.randrange(1 << 30) +
                "".join(r.choice("abcdefgh\n") for _ in range(n))).encode()

    def put(self, L, path, kind, payload, below=False):
        self.ensure_parents(L, path)
        L.ent[path] = (kind, payload)
        old = self.view.get(path)
        self.view[path] = [kind, old[1] if old else below]

    def drop_from_layer(self, L, path):
        for p in [p for p in L.ent if p == path or p.startswith(path + "/")]:
            del L.ent[p]

    def remove(self, L, path):
        """Delete PATH (and its subtree) from the union view."""
        below = self.view[path][1]
        for p in self.subtree(path):
            del self.view[p]
        self.drop_from_layer(L, path)
        if below:
            self.ensure_parents(L, path)
            L.ent[path] = (WHITEOUT, None)
            self.deleted.append(path)

    def new_file(self, L, d):
        self.put(L, self.join(d, self.free_name(d)), FILE, self.content())

    def new_link(self, L, d):
        r = self.rnd
        cands = self.children(d) or [""]
        tgt = r.choice([
            r.choice(cands).rsplit("/", 1)[-1] or ".",
            "../" + self.free_name(d),
            "missing-" + str(r.randrange(100)),
            "/nonexistent/abs",
        ])
        self.put(L, self.join(d, self.free_name(d)), LINK, tgt)

    def new_dir(self, L, d, opaque=False, fill=3):
        p = self.join(d, self.free_name(d))
        self.put(L, p, DIR, opaque)
        self.fill(L, p, fill)
        return p

    def fill(self, L, d, n, depth=2):
        for _ in range(n):
            x = self.rnd.random()
            if x < 0.6:
                self.new_file(L, d)
            elif x < 0.75:
                self.new_link(L, d)
            elif depth > 0:
                p = self.join(d, self.free_name(d))
                self.put(L, p, DIR, False)
                self.fill(L, p, self.rnd.randrange(0, 4), depth - 1)

    def make_opaque(self, L, d):
        """Replace existing dir D by an opaque dir with new contents."""
        below = self.view[d][1]
        for p in self.subtree(d):
            if p != d:
                del self.view[p]
        self.drop_from_layer(L, d)
        self.ensure_parents(L, d)
        # an opaque dir over nothing below is just a dir
        L.ent[d] = (DIR, below)
        self.fill(L, d, self.rnd.randrange(1, 5))

    def retype(self, L, p):
        """A file becomes a dir, or a dir becomes a file."""
        kind, below = self.view[p]
        for q in self.subtree(p):
            del self.view[q]
        self.drop_from_layer(L, p)
        if kind == DIR:
            self.put(L, p, FILE, self.content(), below)
        else:
            # a dir over a lower non-dir hides it: no opaque mark needed
            self.put(L, p, DIR, False, below)
            self.fill(L, p, self.rnd.randrange(1, 4))

    def recreate(self, L):
        """Create again a name whited out in a lower layer (the
        whiteout stays there; the name comes back from this layer)."""
        cands = [p for p in self.deleted[:self.deleted_below]
                 if p not in self.view and
                 self.view.get(p.rsplit("/", 1)[0] if "/" in p else "",
                               [None])[0] == DIR]
        if not cands:
            return False
        p = self.rnd.choice(cands)
        if self.rnd.random() < 0.5:
            self.put(L, p, FILE, self.content())
        else:
            # a dir over a whiteout below: a plain dir, as the whiteout
            # already stops the lookup (overlayfs would mark it opaque)
            self.put(L, p, DIR, self.rnd.random() < 0.5)
            self.fill(L, p, self.rnd.randrange(0, 3))
        return True

    # -- layers ---------------------------------------------------------
    def base(self, n):
        L = Layer()
        for _ in range(n):
            ds = [d for d in self.dirs() if self.depth(d) < 6]
            d = self.rnd.choice(ds)
            x = self.rnd.random()
            if x < 0.55:
                self.new_file(L, d)
            elif x < 0.65:
                self.new_link(L, d)
            else:
                p = self.join(d, self.free_name(d))
                if p not in self.view:
                    self.put(L, p, DIR, False)
        self.finish(L)

    def pick(self, lst, prefer_deep=False, with_sub=False):
        if with_sub:
            lst = [p for p in lst if any(self.view[c][0] == DIR
                                         for c in self.children(p))] or lst
        if not lst:
            return None
        if prefer_deep:
            lst = sorted(lst, key=lambda p: (-self.depth(p), p))
            lst = lst[:max(3, len(lst) // 3)]
        return self.rnd.choice(sorted(lst))

    def change(self, nops, is_upper):
        r = self.rnd
        L = Layer()
        # planted cases, so that every stack has each feature
        for _ in range(2):
            d = self.pick([p for p in self.of_kind(DIR, True) if
                           self.depth(p) > 1], with_sub=True)
            if d:
                self.make_opaque(L, d)
        for _ in range(3):
            self.recreate(L)
        for kind in (FILE, DIR, FILE, DIR):
            p = self.pick(self.of_kind(kind, True), prefer_deep=kind == DIR)
            if p:
                self.retype(L, p)
        for _ in range(nops):
            x = r.random()
            ds = [d for d in self.dirs() if self.depth(d) < 7]
            if x < 0.25:
                self.new_file(L, r.choice(sorted(ds)))
            elif x < 0.35:
                f = self.pick(self.of_kind(FILE))
                if f:
                    self.put(L, f, FILE, self.content())
            elif x < 0.42:
                self.new_link(L, r.choice(sorted(ds)))
            elif x < 0.52:
                self.new_dir(L, r.choice(sorted(ds)), fill=r.randrange(0, 4))
            elif x < 0.65:
                # mostly leaves: whole-dir whiteouts are planted above
                if r.random() < 0.8:
                    p = self.pick([p for p in self.view if p and
                                   self.view[p][0] != DIR])
                else:
                    p = self.pick([p for p in self.dirs() if p],
                                  prefer_deep=True)
                if p:
                    self.remove(L, p)
            elif x < 0.72:
                d = self.pick([p for p in self.dirs() if p],
                              prefer_deep=True, with_sub=r.random() < 0.5)
                if d:
                    self.make_opaque(L, d)
            elif x < 0.8:
                p = self.pick([p for p in self.view if p and
                               self.view[p][0] in (FILE, DIR)],
                              prefer_deep=True)
                if p:
                    self.retype(L, p)
            elif x < 0.9:
                self.recreate(L)
            else:
                # touch a dir deep down (a merged dir in this layer)
                d = self.pick(self.of_kind(DIR, True), prefer_deep=True)
                if d:
                    self.fill(L, d, 1, 0)
        # whiteouts last, so that no later change in this layer covers them
        for _ in range(3):
            d = self.pick(self.of_kind(DIR, True), prefer_deep=True)
            if d:
                self.remove(L, d)
        for _ in range(5):
            f = self.pick(self.of_kind(FILE, True), prefer_deep=r.random() < .5)
            if f:
                self.remove(L, f)
        self.finish(L)

    def finish(self, L):
        self.layers.append(L)
        self.deleted_below = len(self.deleted)
        for v in self.view.values():
            v[1] = True   # everything is "below" for the next layer


def render(layers, out, form):
    """LAYERS is bottom first; the last one is the upper."""
    os.makedirs(out, exist_ok=True)
    names = ["l%d" % (len(layers) - 1 - i) for i in range(len(layers) - 1)]
    names.append("upper")
    for L, name in zip(layers, names):
        root = os.path.join(out, name)
        os.makedirs(root, exist_ok=True)
        for path in sorted(L.ent, key=lambda p: (p.count("/"), p)):
            kind, payload = L.ent[path]
            full = os.path.join(root, path)
            if kind == DIR:
                os.makedirs(full, exist_ok=True)
                if payload:
                    if form == "overlay":
                        os.setxattr(full, "trusted.overlay.opaque", b"y",
                                    follow_symlinks=False)
                    else:
                        open(os.path.join(full, ".wh..wh..opq"), "wb").close()
            elif kind == FILE:
                with open(full, "wb") as f:
                    f.write(payload)
            elif kind == LINK:
                os.symlink(payload, full)
            elif form == "overlay":
                os.mknod(full, stat.S_IFCHR | 0o000, os.makedev(0, 0))
            else:
                d, n = os.path.split(full)
                open(os.path.join(d, ".wh." + n), "wb").close()
    with open(os.path.join(out, "lowerdirs"), "w") as f:
        f.write(":".join(reversed(names[:-1])) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    ap.add_argument("--form", choices=["overlay", "oci", "both"],
                    default="both")
    ap.add_argument("--lowers", type=int, default=3)
    ap.add_argument("--base", type=int, default=700,
                    help="entries in the bottom lower")
    ap.add_argument("--ops", type=int, default=150,
                    help="random changes per higher layer")
    a = ap.parse_args()

    s = Stack(random.Random(a.seed))
    s.base(a.base)
    for i in range(a.lowers - 1):
        s.change(a.ops, False)
    s.change(a.ops, True)
    forms = ["overlay", "oci"] if a.form == "both" else [a.form]
    for form in forms:
        render(s.layers, os.path.join(a.out, form) if a.form == "both"
               else a.out, form)
    total = sum(len(L.ent) for L in s.layers)
    print("seed %d: %d layers, %d entries" % (a.seed, len(s.layers), total),
          file=sys.stderr)


if __name__ == "__main__":
    main()
