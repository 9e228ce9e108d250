/* door_probe: one route to a file, driven through syscall() or ioctl,
 * as `door_probe OP PATH [ARG]`; prints "OP ok" (or what was read) or
 * "OP ERRNAME". The routes are those no shell tool takes: fd calls by
 * syscall number, the calls glibc has no function for, ioctl writers,
 * file handles, io_uring_setup, the mount family (in a private mount
 * namespace, so that nothing outlives the probe). */
#include <fcntl.h>
#include <linux/fs.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/un.h>
#include <utime.h>

#include "probe_io.h"

#define NR_fchmodat2 452
#define NR_setxattrat 463
#define NR_getxattrat 464
#define NR_listxattrat 465
#define NR_removexattrat 466
#define NR_file_getattr 468
#define NR_file_setattr 469

struct xargs { uint64_t value; uint32_t size, flags; };
struct fattr { uint64_t xflags; uint32_t extsize, nextents, projid, cowextsize; };

static const char *op;

static int done(long rc)
{
	if (rc < 0)
		say("%s %s", op, ename(errno));
	else
		say("%s ok", op);
	return 0;
}

static int rdfd(const char *path)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK);
	if (fd < 0) {
		say("%s open %s", op, ename(errno));
		exit(0);
	}
	return fd;
}

/* A list of xattr names, NULs as spaces. */
static void show_list(long n, char *buf)
{
	if (n < 0) {
		done(n);
		return;
	}
	for (long i = 0; i < n; i++)
		if (!buf[i])
			buf[i] = ' ';
	buf[n] = '\0';
	say("%s %s", op, buf);
}

static int handle_open(const char *path, int flags, int libc)
{
	struct file_handle *h = malloc(sizeof *h + MAX_HANDLE_SZ);
	int mnt, mfd = open(".", O_RDONLY | O_DIRECTORY);
	h->handle_bytes = MAX_HANDLE_SZ;
	if (syscall(SYS_name_to_handle_at, AT_FDCWD, path, h, &mnt, 0) < 0)
		return done(-1);
	int fd = libc ? open_by_handle_at(mfd, h, flags)
		      : (int)syscall(SYS_open_by_handle_at, mfd, h, flags);
	if (fd < 0 || (flags & O_ACCMODE) == O_RDONLY)
		return done(fd);
	return done(write(fd, "X", 1));
}

/* The handle of PATH saved in FILE (by one process, to be opened by
 * another after the kernel forgot the file's dentry). */
static int handle_save(const char *path, const char *file)
{
	struct file_handle *h = malloc(sizeof *h + MAX_HANDLE_SZ);
	int mnt;
	h->handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(AT_FDCWD, path, h, &mnt, 0) < 0)
		return done(-1);
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	return done(write(fd, h, sizeof *h + h->handle_bytes));
}

/* Open the handle saved in FILE, and write through it: its data (rdwr),
 * its flags (setflags) or its mode (fchmod). */
static int handle_load(const char *file, const char *how)
{
	char buf[sizeof(struct file_handle) + MAX_HANDLE_SZ];
	int fd = open(file, O_RDONLY), mfd = open(".", O_RDONLY | O_DIRECTORY);
	if (read(fd, buf, sizeof buf) <= 0)
		return done(-1);
	struct file_handle *h = (struct file_handle *)(void *)buf;
	if (!strcmp(how, "rdwr")) {
		int w = (int)syscall(SYS_open_by_handle_at, mfd, h, O_RDWR);
		return done(w < 0 ? -1 : write(w, "X", 1));
	}
	int r = (int)syscall(SYS_open_by_handle_at, mfd, h, O_RDONLY);
	if (r < 0)
		return done(-1);
	if (!strcmp(how, "fchmod"))
		return done(syscall(SYS_fchmod, r, 0600));
	int fl = 0;
	if (ioctl(r, FS_IOC_GETFLAGS, &fl) < 0)
		return done(-1);
	fl |= FS_NODUMP_FL;
	return done(ioctl(r, FS_IOC_SETFLAGS, &fl));
}

/* A datagram to a socket bound at union path PATH, sent by syscall
 * (sendto, or sendmsg with SENDMSG set); prints what arrived. */
static int dgram(const char *path, int use_msg)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char got[8] = "";
	snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
	int r = socket(AF_UNIX, SOCK_DGRAM, 0), s = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (bind(r, (struct sockaddr *)&a, sizeof a) < 0)
		return done(-1);
	struct iovec iov = { (void *)"hi", 2 };
	struct msghdr m = { .msg_name = &a, .msg_namelen = sizeof a,
			    .msg_iov = &iov, .msg_iovlen = 1 };
	long rc = use_msg ? syscall(SYS_sendmsg, s, &m, 0)
			  : syscall(SYS_sendto, s, "hi", 2, 0, &a, sizeof a);
	if (rc < 0 || recv(r, got, sizeof got - 1, MSG_DONTWAIT) < 0)
		return done(-1);
	say("%s %s", op, got);
	return 0;
}

static int private_ns(void)
{
	if (unshare(CLONE_NEWNS) < 0 ||
	    syscall(SYS_mount, "none", "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		say("%s unshare %s", op, ename(errno));
		exit(0);
	}
	return 0;
}

static int flags_op(const char *path, int via_syscall)
{
	int fd = rdfd(path), fl = 0;
	if (ioctl(fd, FS_IOC_GETFLAGS, &fl) < 0)
		return done(-1);
	fl |= FS_NODUMP_FL;
	return done(via_syscall ? syscall(SYS_ioctl, fd, FS_IOC_SETFLAGS, &fl)
				: ioctl(fd, FS_IOC_SETFLAGS, &fl));
}

static int fsx_op(const char *path)
{
	struct fsxattr x;
	int fd = rdfd(path);
	if (ioctl(fd, FS_IOC_FSGETXATTR, &x) < 0)
		return done(-1);
	x.fsx_xflags |= FS_XFLAG_NODUMP;
	return done(ioctl(fd, FS_IOC_FSSETXATTR, &x));
}

static int fileattr_op(const char *path)
{
	struct fattr fa = { 0 };
	if (syscall(NR_file_getattr, AT_FDCWD, path, &fa, sizeof fa, 0) < 0)
		return done(-1);
	fa.xflags |= FS_XFLAG_NODUMP;
	return done(syscall(NR_file_setattr, AT_FDCWD, path, &fa, sizeof fa, 0));
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	op = argv[1];
	const char *p = argv[2], *arg = argc > 3 ? argv[3] : "";
	struct timeval tv[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
	struct utimbuf ub = { 1000000000, 1000000000 };
	struct xargs xa = { (uintptr_t)"v", 1, 0 };
	char buf[4096];
	long v = 42;

	if (!strcmp(op, "fchmod"))
		return done(syscall(SYS_fchmod, rdfd(p), 0600));
	if (!strcmp(op, "fchown"))
		return done(syscall(SYS_fchown, rdfd(p), getuid(), getgid()));
	if (!strcmp(op, "fsetxattr"))
		return done(syscall(SYS_fsetxattr, rdfd(p), "user.door", "v", 1, 0));
	if (!strcmp(op, "fremovexattr"))
		return done(syscall(SYS_fremovexattr, rdfd(p), "user.keep"));
	if (!strcmp(op, "fgetxattr")) {
		long n = syscall(SYS_fgetxattr, rdfd(p), arg, buf, sizeof buf - 1);
		return n < 0 ? done(n) : (say("%s %.*s", op, (int)n, buf), 0);
	}
	if (!strcmp(op, "flistxattr")) {
		show_list(syscall(SYS_flistxattr, rdfd(p), buf, sizeof buf - 1), buf);
		return 0;
	}
	if (!strcmp(op, "utime"))
		return done(syscall(SYS_utime, p, &ub));
	if (!strcmp(op, "utimes"))
		return done(syscall(SYS_utimes, p, tv));
	if (!strcmp(op, "futimesat"))
		return done(syscall(SYS_futimesat, AT_FDCWD, p, tv));
	if (!strcmp(op, "fchmodat2"))
		return done(syscall(NR_fchmodat2, AT_FDCWD, p, 0600, 0));
	if (!strcmp(op, "fchmodat2-fd"))
		return done(syscall(NR_fchmodat2, open(p, O_PATH), "", 0600, AT_EMPTY_PATH));
	if (!strcmp(op, "setxattrat"))
		return done(syscall(NR_setxattrat, AT_FDCWD, p, 0, "user.door", &xa, sizeof xa));
	if (!strcmp(op, "setxattrat-fd"))
		return done(syscall(NR_setxattrat, rdfd(p), "", AT_EMPTY_PATH, "user.door", &xa, sizeof xa));
	if (!strcmp(op, "removexattrat"))
		return done(syscall(NR_removexattrat, AT_FDCWD, p, 0, "user.keep"));
	if (!strcmp(op, "getxattrat")) {
		struct xargs g = { (uintptr_t)buf, sizeof buf - 1, 0 };
		long n = syscall(NR_getxattrat, AT_FDCWD, p, 0, arg, &g, sizeof g);
		return n < 0 ? done(n) : (say("%s %.*s", op, (int)n, buf), 0);
	}
	if (!strcmp(op, "listxattrat")) {
		show_list(syscall(NR_listxattrat, AT_FDCWD, p, 0, buf, sizeof buf - 1), buf);
		return 0;
	}
	if (!strcmp(op, "file_setattr"))
		return fileattr_op(p);
	if (!strcmp(op, "ioctl-setflags"))
		return flags_op(p, 0);
	if (!strcmp(op, "sys-ioctl-setflags"))
		return flags_op(p, 1);
	if (!strcmp(op, "ioctl-fssetxattr"))
		return fsx_op(p);
	if (!strcmp(op, "ioctl-setversion"))
		return done(ioctl(rdfd(p), FS_IOC_SETVERSION, &v));
	if (!strcmp(op, "handle-rdwr"))
		return handle_open(p, O_RDWR, 0);
	if (!strcmp(op, "handle-trunc"))
		return handle_open(p, O_RDONLY | O_TRUNC, 1);
	if (!strcmp(op, "handle-rdwr-libc"))
		return handle_open(p, O_RDWR, 1);
	if (!strcmp(op, "handle-save"))
		return handle_save(p, arg);
	if (!strcmp(op, "handle-load"))
		return handle_load(p, arg);
	if (!strcmp(op, "handle-rdonly"))
		return handle_open(p, O_RDONLY, 0);
	if (!strcmp(op, "getdents")) {
		long n = syscall(SYS_getdents, rdfd(p), buf, sizeof buf);
		if (n < 0)
			return done(n);
		for (long off = 0; off < n;) { /* struct linux_dirent */
			unsigned short reclen;
			memcpy(&reclen, buf + off + 16, sizeof reclen);
			say("%s %s %d", op, buf + off + 18, buf[off + reclen - 1]);
			off += reclen;
		}
		return 0;
	}
	if (!strcmp(op, "sendto") || !strcmp(op, "sendmsg"))
		return dgram(p, op[4] == 'm');
	if (!strcmp(op, "inotify"))
		return done(syscall(SYS_inotify_add_watch, inotify_init1(0), p, IN_MODIFY));
	if (!strcmp(op, "fanotify"))
		return done(syscall(SYS_fanotify_mark, fanotify_init(FAN_CLASS_NOTIF, O_RDONLY),
				    FAN_MARK_ADD, FAN_MODIFY, AT_FDCWD, p));
	if (!strcmp(op, "uring-setup")) {
		char params[120] = { 0 }; /* struct io_uring_params */
		return done(syscall(SYS_io_uring_setup, 4, params));
	}
	if (!strcmp(op, "acct")) {
		long rc = syscall(SYS_acct, p);
		syscall(SYS_acct, NULL);
		return done(rc);
	}
	if (!strcmp(op, "chroot") && !private_ns())
		return done(syscall(SYS_chroot, p));
	if (!strcmp(op, "bind-mount") && !private_ns())
		return done(syscall(SYS_mount, p, arg, NULL, MS_BIND, NULL));
	if (!strcmp(op, "mount-on") && !private_ns())
		return done(syscall(SYS_mount, "none", p, "tmpfs", 0, NULL));
	if (!strcmp(op, "open_tree") && !private_ns())
		return done(syscall(SYS_open_tree, AT_FDCWD, p, 1 /* OPEN_TREE_CLONE */));
	say("%s unknown", op);
	return 2;
}
