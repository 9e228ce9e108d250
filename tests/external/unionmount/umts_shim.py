#!/usr/bin/env python3
"""Run unionmount-testsuite's `run` with the overlay mount replaced by unionshim
(not part of `make check`: the suite is not vendored; UMTS_SUITE names a
checkout of https://github.com/amir73il/unionmount-testsuite, UMTS_LIB the
dir holding unionrun and the libraries, by default this repository's
build/).

Usage (same arguments as the suite's ./run, overlay mode):
    UNIONMOUNT_BASEDIR=... [UNIONMOUNT_LOWERDIR=...] [UNIONMOUNT_MNTPOINT=...] \
        python3 umts_shim.py --ov [--samefs] [--xino] [--verify] TEST...

How: the suite's test model (context.py) stays in this native (unshimmed)
process.  mount_union/remount_union/unmount_union are replaced: "mount" starts
`unionrun -o lowerdir=..,upperdir=..,workdir=.. --at MNTPOINT -- python3
shim_server.py`, a child that executes os.* calls sent to it over a pipe.
context.py's `os` module is replaced by a proxy that sends every call on a path
under MNTPOINT (and every fd call, seteuid/setegid) to that child; calls on
other paths (upper/lower layer checks) run natively, as on overlayfs.
"Remount" = end the child, start a new one over the same upper/work dirs.
"""
import os, sys, pickle, struct, subprocess, atexit, errno as _errno

HERE = os.path.dirname(os.path.abspath(__file__))
SUITE = os.environ.get("UMTS_SUITE") or sys.exit("umts_shim: set UMTS_SUITE to a checkout of unionmount-testsuite")
LIB = os.environ.get("UMTS_LIB", os.path.join(HERE, "..", "..", "..", "build"))
UNIONRUN = os.path.join(LIB, "unionrun")
sys.path.insert(0, SUITE)
os.chdir(SUITE)

import tool_box
from tool_box import system, write_file, TestError

###########################################################################
# Child process under unionrun
###########################################################################
class Child:
    def __init__(self, lowers, upper, work, at):
        opt = "lowerdir=" + lowers + ",upperdir=" + upper + ",workdir=" + work
        cmd = [UNIONRUN, "-q", "-o", opt, "--at", at, "--",
               sys.executable, os.path.join(HERE, "shim_server.py")]
        if os.environ.get("UMTS_VERBOSE"):
            print("+ " + " ".join(cmd))
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def call(self, name, args, kw):
        b = pickle.dumps((name, args, kw))
        self.p.stdin.write(struct.pack("<I", len(b)) + b)
        self.p.stdin.flush()
        hdr = self.p.stdout.read(4)
        if len(hdr) < 4:
            raise RuntimeError("shim child died (rc=%s) during os.%s%r" %
                               (self.p.wait(), name, args))
        n = struct.unpack("<I", hdr)[0]
        kind, val = pickle.loads(self.p.stdout.read(n))
        if kind == "ok":
            return val
        if kind == "err":
            cls, en, s, f1, f2 = val
            exc = OSError(en, s, f1, None, f2) if f2 is not None else OSError(en, s, f1)
            raise exc   # OSError() picks the right subclass from errno
        raise RuntimeError("shim child exception in os.%s%r: %s" % (name, args, val))

    def stop(self):
        if self.p.poll() is None:
            self.p.stdin.close()
            rc = self.p.wait()
            if rc != 0:
                raise RuntimeError("shim child exited with %d" % rc)

child = None
def stop_child():
    global child
    if child is not None:
        c, child = child, None
        c.stop()
def at_exit():
    try:
        stop_child()
    finally:
        if lower_ro:
            os.system("mount -o remount,rw " + lower_ro)
atexit.register(at_exit)

###########################################################################
# os proxy for context.py
###########################################################################
union_root = None
PATH_FUNCS = {"lstat", "stat", "open", "chmod", "truncate", "utime", "readlink",
              "mkdir", "rmdir", "unlink", "listdir", "symlink"}
TWO_PATH = {"rename", "link"}
FD_FUNCS = {"read", "write", "fstat", "lseek", "close", "seteuid", "setegid"}

def in_union(p):
    if isinstance(p, int):
        return True
    p = os.fsdecode(p)
    if not p.startswith("/"):
        return True
    return p == union_root or p.startswith(union_root + "/")

class OsProxy:
    def __getattr__(self, name):
        real = getattr(os, name)
        if name in FD_FUNCS:
            route = lambda a: True
        elif name in PATH_FUNCS:
            route = lambda a: in_union(a[0])
        elif name in TWO_PATH:
            route = lambda a: in_union(a[0]) or in_union(a[1])
        else:
            return real
        def f(*a, **kw):
            if child is not None and route(a):
                return child.call(name, a, kw)
            return real(*a, **kw)
        return f

###########################################################################
# mount hooks
###########################################################################
lower_ro = os.environ.get("UMTS_LOWER_RO")   # a tmpfs we may remount ro/rw

def start(ctx, lowers, upperdir, workdir):
    global child
    cfg = ctx.config()
    child = Child(lowers, upperdir, workdir, cfg.union_mntroot())
    ctx.note_upper_fs(cfg.upper_mntroot(), cfg.testdir(), cfg.union_mntroot() + "/f")
    ctx.note_lower_layers(lowers)
    ctx.note_upper_layer(upperdir)

def shim_mount_union(ctx):
    global union_root
    cfg = ctx.config()
    assert not cfg.is_nested() and cfg.maxfs() <= 0, "adapter supports --ov [--samefs] only"
    union_root = cfg.union_mntroot()
    upper_mntroot = cfg.upper_mntroot()
    layer_mntroot = upper_mntroot + "/" + ctx.curr_layer()
    upperdir = layer_mntroot + "/u"
    workdir = layer_mntroot + "/w"
    try:
        os.mkdir(layer_mntroot)
    except OSError:
        system("rm -rf " + upper_mntroot + "/*")
        os.mkdir(layer_mntroot)
    os.mkdir(upperdir)
    os.mkdir(workdir)
    write_file(upperdir + "/f", "pure")
    if lower_ro:
        system("mount -o remount,ro " + lower_ro)
    start(ctx, cfg.lower_mntroot(), upperdir, workdir)

def shim_unmount_union(ctx):
    stop_child()
    if lower_ro:
        system("mount -o remount,rw " + lower_ro)

def shim_remount_union(ctx, rotate_upper=False):
    cfg = ctx.config()
    stop_child()
    upper_mntroot = cfg.upper_mntroot()
    if rotate_upper and ctx.have_more_layers():
        lowerlayers = ctx.upper_layer() + ":" + ctx.lower_layers()
        layer_mntroot = upper_mntroot + "/" + ctx.next_layer()
        upperdir = layer_mntroot + "/u"
        workdir = layer_mntroot + "/w"
        os.mkdir(layer_mntroot)
        os.mkdir(upperdir)
        os.mkdir(workdir)
        write_file(upperdir + "/f", "pure")
    else:
        lowerlayers = ctx.lower_layers()
        layer_mntroot = upper_mntroot + "/" + ctx.curr_layer()
        upperdir = layer_mntroot + "/u"
        workdir = layer_mntroot + "/w"
    start(ctx, lowerlayers, upperdir, workdir)

import mount_union, unmount_union, remount_union
mount_union.mount_union = shim_mount_union
unmount_union.unmount_union = shim_unmount_union
remount_union.remount_union = shim_remount_union
import context
context.remount_union = shim_remount_union
context.os = OsProxy()

import runpy
sys.argv = [os.path.join(SUITE, "run")] + sys.argv[1:]
runpy.run_path(os.path.join(SUITE, "run"), run_name="__main__")
