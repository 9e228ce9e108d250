/* names.h: the wrapped names inside the library (force-included into every
 * object of libunionshim.so, before the file's own lines).
 *
 * Inside the library a call of a public name it wraps is a compile error:
 * a program may define a function of that name itself (gnulib builds
 * renameat2, statx, close_range on top of syscall()), and the library's
 * call would reach the program's function, which may call syscall(), which
 * is the shim's door again: recursion until the stack runs out. So:
 *   US_REAL(name)(...)  libc's function (real.h);
 *   US_SELF(name)(...)  the shim's own wrapper: a hidden symbol the linker
 *                       sets to the wrapper (build/self.ld, from the table),
 *                       so the call never leaves the library.
 * Both come from shim/wrapfuncs.def, the one list of names; a name added
 * there is banned here with nothing else to write. */
#ifndef UNIONSHIM_NAMES_H
#define UNIONSHIM_NAMES_H

/* every header that declares a wrapped name, so the ban below meets each
 * declaration libc's headers make, whichever order the file includes */
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <fts.h>
#include <ftw.h>
#include <glob.h>
#include <mntent.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/fanotify.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/quota.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/swap.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <utime.h>

#include "real.h"

#define US_SELF(name) us_self_##name

#define US_BANNED(name)                                                       \
	__attribute__((error(#name " is wrapped: inside the library call "    \
			     "US_SELF(" #name ") or US_REAL(" #name ")")))

/* A WRAP name has its prototype in the table; an OWN name takes the one
 * libc's headers give it (names.h declares the few they do not). */
#define WRAP(ret, name, params)                                               \
	extern ret name params US_BANNED(name);                                \
	extern US_HIDDEN ret us_self_##name params;
#define OWN(name)                                                             \
	extern __typeof__(name) name US_BANNED(name);                          \
	extern US_HIDDEN __typeof__(name) us_self_##name;
#define REAL(ret, name, params)

/* The table's prototypes may spell an array parameter as a pointer
 * (utimes), and naming a deprecated function (getwd) is no use of it. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-parameter"
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

/* OWN names no header of glibc 2.36 declares (the stat family's old
 * versioned entry points, the fortify checks) */
extern FILE *__setmntent(const char *, const char *);
extern int __xstat(int, const char *, struct stat *);
extern int __xstat64(int, const char *, struct stat *);
extern int __lxstat(int, const char *, struct stat *);
extern int __lxstat64(int, const char *, struct stat *);
extern int __fxstat(int, int, struct stat *);
extern int __fxstat64(int, int, struct stat *);
extern int __fxstatat(int, int, const char *, struct stat *, int);
extern int __fxstatat64(int, int, const char *, struct stat *, int);
extern int __xmknod(int, const char *, mode_t, dev_t *);
extern int __xmknodat(int, int, const char *, mode_t, dev_t *);
extern int __open_2(const char *, int);
extern int __open64_2(const char *, int);
extern int __openat_2(int, const char *, int);
extern int __openat64_2(int, const char *, int);
extern ssize_t __readlink_chk(const char *, char *, size_t, size_t);
extern ssize_t __readlinkat_chk(int, const char *, char *, size_t, size_t);
extern char *__getcwd_chk(char *, size_t, size_t);
extern char *__realpath_chk(const char *, char *, size_t);
extern ssize_t __pread64_chk(int, void *, size_t, off64_t, size_t);
extern pid_t __vfork(void);

#include "wrapfuncs.def"
#undef WRAP
#undef OWN
#undef REAL
#pragma GCC diagnostic pop

/* Not a wrapped name, the one other renaming here: the library formats
 * its work-dir names and messages with its own snprintf (fmt.h), a few
 * hundred bytes of stack where glibc's vfprintf takes about two KiB (the
 * first union call of a thread of PTHREAD_STACK_MIN formats a name), and
 * no page of libc's printf touched. */
#include "unionshim/fmt.h"
#define snprintf us_snprintf
#define vsnprintf us_vsnprintf

#endif
