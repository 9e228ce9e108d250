/* dotnames_probe: calls whose answer the kernel decides by the kind of the
 * last name ("." or "..") or by the pointer itself (NULL), and renames of
 * one object onto itself. One line per call: the call, its result and
 * errno's name. Run on union dir D (holding dir "d" with a file "f", an
 * empty dir "e" and hard links "h1", "h2" of one file) under the shim and
 * on kernel overlayfs: the outputs must be equal.
 *   dotnames_probe D */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* NULL the compiler cannot see (the prototypes say nonnull) */
static const char *volatile null_path;

static void show(const char *what, const char *name, int rc)
{
	int e = errno;
	printf("%-12s %-10s %d %s\n", what, name, rc, rc < 0 ? strerrorname_np(e) : "-");
}

#define T(what, name, call)                                                   \
	do {                                                                  \
		errno = 0;                                                    \
		int rc_ = (call);                                             \
		show(what, name, rc_ < 0 ? -1 : 0);                          \
		if (rc_ > 2)                                                  \
			close(rc_);                                           \
	} while (0)

int main(int argc, char **argv)
{
	static const char *const sfx[] = {"d/.",   "d/..",    "d/./",  "d/../",
					  "nope/..", "d/f/..", "d/f/.", "e/..",
					  "e/.",   "..",     "."};
	char p[4096], f[4096];
	struct stat st;

	if (argc != 2 || chdir(argv[1]) < 0)
		return 2;
	snprintf(f, sizeof f, "%s/d/f", argv[1]);
	for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
		const char *s = sfx[i];
		snprintf(p, sizeof p, "%s/%s", argv[1], s);
		T("rmdir", s, rmdir(p));
		T("rmdir rel", s, rmdir(s));
		T("unlink", s, unlink(p));
		T("unlinkat dir", s, unlinkat(AT_FDCWD, s, AT_REMOVEDIR));
		T("mkdir", s, mkdir(p, 0777));
		T("mknod", s, mknod(p, S_IFIFO | 0600, 0));
		T("symlink", s, symlink("x", p));
		T("link", s, link(f, p));
		T("rename from", s, rename(p, f));
		T("rename to", s, rename(f, p));
		T("creat excl", s, open(p, O_CREAT | O_EXCL | O_WRONLY, 0600));
	}
	/* NULL: EFAULT, as the kernel answers */
	T("stat", "NULL", stat(null_path, &st));
	T("lstat", "NULL", lstat(null_path, &st));
	T("open", "NULL", open(null_path, O_RDONLY));
	T("mkdir", "NULL", mkdir(null_path, 0777));
	T("access", "NULL", access(null_path, F_OK));
	T("unlink", "NULL", unlink(null_path));
	T("rmdir", "NULL", rmdir(null_path));
	T("chdir", "NULL", chdir(null_path));
	T("rename", "NULL", rename(null_path, "d/g"));
	/* one object under both names: success, nothing changes */
	T("rename", "d d", rename("d", "d"));
	T("rename", "e e", rename("e", "e"));
	T("rename", "d/f d/f", rename("d/f", "d/f"));
	T("rename", "h1 h2", rename("h1", "h2"));
	T("rename2", "d d noreplace", renameat2(AT_FDCWD, "d", AT_FDCWD, "d", RENAME_NOREPLACE));
	T("rename2", "d d exchange", renameat2(AT_FDCWD, "d", AT_FDCWD, "d", RENAME_EXCHANGE));
	T("stat", "d/f", stat("d/f", &st));
	T("stat", "h1", stat("h1", &st));
	printf("h1 nlink %lu\n", (unsigned long)st.st_nlink);
	T("stat", "h2", stat("h2", &st));
	return 0;
}
