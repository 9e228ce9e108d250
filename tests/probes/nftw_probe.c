/* nftw_probe: prints what ftw/nftw report, one line per callback:
 * "TYPE LEVEL PATH BASENAME" (nftw) or "TYPE PATH" (ftw), with the ROOT
 * prefix of PATH shown as "ROOT", then "ret=N" (and errno on -1).
 *   nftw_probe MODE ROOT
 * MODE: phys (FTW_PHYS), depth (FTW_PHYS|FTW_DEPTH), logical (0),
 * ftw (ftw()), chdir (FTW_PHYS|FTW_CHDIR: also checks that BASENAME
 * names the object from the cwd), skip (FTW_PHYS|FTW_ACTIONRETVAL:
 * FTW_SKIP_SUBTREE at dirs named "opq"), stop (FTW_ACTIONRETVAL: FTW_STOP
 * at the first file named "low_only"). chdir also prints whether the cwd
 * after nftw is the one before it. */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *root;
static size_t rootlen;
static int mode_chdir, mode_skip, mode_stop;

static const char *type_name(int t)
{
	switch (t) {
	case FTW_F: return "F";
	case FTW_D: return "D";
	case FTW_DNR: return "DNR";
	case FTW_NS: return "NS";
	case FTW_SL: return "SL";
	case FTW_SLN: return "SLN";
	case FTW_DP: return "DP";
	default: return "?";
	}
}

static void print_path(const char *p)
{
	if (strncmp(p, root, rootlen) == 0)
		printf("ROOT%s", p + rootlen);
	else
		printf("%s", p);
}

static int on_nftw(const char *path, const struct stat *st, int type,
		   struct FTW *f)
{
	(void)st;
	printf("%s %d ", type_name(type), f->level);
	print_path(path);
	printf(" %s", path + f->base);
	if (mode_chdir) {
		struct stat a, b;
		int ok = lstat(path + f->base, &a) == 0 &&
			 lstat(path, &b) == 0 && a.st_ino == b.st_ino &&
			 a.st_dev == b.st_dev;
		printf(" cwd=%s", ok ? "ok" : "bad");
	}
	printf("\n");
	if (mode_skip && type == FTW_D && strcmp(path + f->base, "opq") == 0)
		return FTW_SKIP_SUBTREE;
	if (mode_stop && strcmp(path + f->base, "low_only") == 0)
		return FTW_STOP;
	return 0;
}

static int on_ftw(const char *path, const struct stat *st, int type)
{
	(void)st;
	printf("%s ", type_name(type));
	print_path(path);
	printf("\n");
	return 0;
}

int main(int argc, char **argv)
{
	int flags, rc;

	if (argc != 3) {
		fprintf(stderr, "usage: nftw_probe MODE ROOT\n");
		return 2;
	}
	root = argv[2];
	rootlen = strlen(root);
	const char *m = argv[1];
	if (strcmp(m, "ftw") == 0) {
		rc = ftw(root, on_ftw, 4);
		goto out;
	}
	if (strcmp(m, "phys") == 0)
		flags = FTW_PHYS;
	else if (strcmp(m, "depth") == 0)
		flags = FTW_PHYS | FTW_DEPTH;
	else if (strcmp(m, "logical") == 0)
		flags = 0;
	else if (strcmp(m, "chdir") == 0)
		flags = FTW_PHYS | FTW_CHDIR, mode_chdir = 1;
	else if (strcmp(m, "skip") == 0)
		flags = FTW_PHYS | FTW_ACTIONRETVAL, mode_skip = 1;
	else if (strcmp(m, "stop") == 0)
		flags = FTW_PHYS | FTW_ACTIONRETVAL, mode_stop = 1;
	else {
		fprintf(stderr, "nftw_probe: unknown mode %s\n", m);
		return 2;
	}
	char *before = getcwd(NULL, 0);
	rc = nftw(root, on_nftw, 4, flags);
	char *after = getcwd(NULL, 0);
	if (mode_chdir)
		printf("cwd after: %s\n", before && after && !strcmp(before, after)
						   ? "same" : "changed");
	free(before);
	free(after);
out:
	if (rc == -1)
		printf("ret=-1 %s\n", strerrorname_np(errno));
	else
		printf("ret=%d\n", rc);
	return 0;
}
