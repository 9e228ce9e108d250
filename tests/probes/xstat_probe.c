/* xstat_probe: the pre-2.33 stat ABI (__xstat, __lxstat, __fxstatat and
 * their 64 forms, version 1 on x86-64), as programs built against an older
 * glibc still call it. glibc 2.33+ keeps these only as compat symbols, so
 * the references are bound to the old version explicitly.
 *
 * Usage: xstat_probe PATH... ; per path one line
 *   "PATH xstat=T:SIZE lxstat=T:SIZE fxstatat=T:SIZE fxstatat_nofollow=T:SIZE
 *    xstat64=T:SIZE"
 * T is f, d, l, c or ? ; a failed call prints its errno name instead. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int __xstat(int, const char *, struct stat *);
int __lxstat(int, const char *, struct stat *);
int __fxstatat(int, int, const char *, struct stat *, int);
int __xstat64(int, const char *, struct stat64 *);
__asm__(".symver __xstat,__xstat@GLIBC_2.2.5");
__asm__(".symver __lxstat,__lxstat@GLIBC_2.2.5");
__asm__(".symver __fxstatat,__fxstatat@GLIBC_2.4");
__asm__(".symver __xstat64,__xstat64@GLIBC_2.2.5");

#define VER 1 /* _STAT_VER_LINUX on x86-64 */

static void show(const char *what, int rc, mode_t mode, long long size)
{
	if (rc < 0) {
		printf(" %s=%s", what, strerrorname_np(errno));
		return;
	}
	char t = S_ISREG(mode) ? 'f' : S_ISDIR(mode) ? 'd' : S_ISLNK(mode) ? 'l' :
		 S_ISCHR(mode) ? 'c' : '?';
	printf(" %s=%c:%lld", what, t, size);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		struct stat st;
		struct stat64 st64;
		int rc;

		printf("%s", argv[i]);
		rc = __xstat(VER, argv[i], &st);
		show("xstat", rc, st.st_mode, (long long)st.st_size);
		rc = __lxstat(VER, argv[i], &st);
		show("lxstat", rc, st.st_mode, (long long)st.st_size);
		rc = __fxstatat(VER, AT_FDCWD, argv[i], &st, 0);
		show("fxstatat", rc, st.st_mode, (long long)st.st_size);
		rc = __fxstatat(VER, AT_FDCWD, argv[i], &st, AT_SYMLINK_NOFOLLOW);
		show("fxstatat_nofollow", rc, st.st_mode, (long long)st.st_size);
		rc = __xstat64(VER, argv[i], &st64);
		show("xstat64", rc, st64.st_mode, (long long)st64.st_size);
		printf("\n");
	}
	return 0;
}
