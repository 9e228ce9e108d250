# longpath_calls.py UNION: each call family on a lower file and dir 20
# levels of 255-byte names deep below UNION, reached by short relative
# paths (tests/bats/longpath.bats). One line a call: its result or errno.
import ctypes
import os
import subprocess
import sys

D = "d" * 255
os.chdir(sys.argv[1])
for i in range(20):
    os.chdir(D)


def t(name, f):
    try:
        r = f()
        print(name, "ok", "-" if r is None else r)
    except OSError as e:
        print(name, "ERR", e.errno)


def script():
    with open("s.sh", "w") as f:
        f.write("#!/bin/sh\necho script ran\n")
    os.chmod("s.sh", 0o755)


def dirfd_list():
    fd = os.open(".", os.O_RDONLY)
    names = sorted(os.listdir(fd))
    os.close(fd)
    return names


def getcwd_small():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.getcwd.restype = ctypes.c_char_p
    buf = ctypes.create_string_buffer(4096)
    if libc.getcwd(buf, 4096) is None:
        raise OSError(ctypes.get_errno(), "getcwd")


def openat2():
    libc = ctypes.CDLL(None, use_errno=True)
    how = (ctypes.c_uint64 * 3)(os.O_RDONLY, 0, 0)
    fd = libc.syscall(437, -100, b"lowfile", how, 24)  # SYS_openat2, AT_FDCWD
    if fd < 0:
        raise OSError(ctypes.get_errno(), "openat2")
    data = os.read(fd, 10)
    os.close(fd)
    return data


def std_fds():
    return [os.fstat(fd) is not None for fd in (0, 1, 2)]


def rename_dir():
    os.mkdir("x")
    os.rename("x", "y")
    return sorted(os.listdir("."))


t("access", lambda: os.access("lowfile", os.W_OK))
t("utime", lambda: os.utime("lowfile", (1, 2)))
t("stat-mtime", lambda: os.stat("lowfile").st_mtime)
t("chown", lambda: os.chown("lowfile", 1, 1))
t("lchown", lambda: os.lchown("lowfile", 0, 0))
t("setxattr", lambda: os.setxattr("lowfile", "user.x", b"1"))
t("getxattr", lambda: os.getxattr("lowfile", "user.x"))
t("listxattr", lambda: sorted(os.listxattr("lowfile")))
t("link", lambda: os.link("lowfile", "hard"))
t("nlink", lambda: os.stat("lowfile").st_nlink)
t("truncate", lambda: os.truncate("lowfile", 2))
t("read", lambda: open("lowfile").read())
t("mkfifo", lambda: os.mkfifo("fifo"))
t("listdir", lambda: sorted(os.listdir(".")))
t("script", script)
t("exec", lambda: subprocess.run(["./s.sh"], capture_output=True).stdout)
t("getcwd", lambda: len(os.getcwd()) - len(sys.argv[1]))
t("getcwd-4096-bytes", getcwd_small)
t("rmdir-dot", lambda: os.rmdir("."))
t("rename-dir", rename_dir)
t("readlink-proc-cwd", lambda: len(os.readlink("/proc/self/cwd")))
t("dirfd-list", dirfd_list)
t("openat2", openat2)
t("std-fds-open", std_fds)
