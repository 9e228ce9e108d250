/* fts_probe: prints what fts_read returns, one "INFO LEVEL PATH NAME"
 * line per entry, children sorted by name, with the ROOT prefix of PATH
 * shown as "ROOT"; a trailing " acc!" marks an entry whose fts_accpath
 * cannot be lstat'ed although it was. Ends with "end errno=N".
 *   fts_probe MODE ROOT
 * MODE: phys (FTS_PHYSICAL|FTS_NOCHDIR), logical (FTS_LOGICAL),
 * seedot (FTS_PHYSICAL|FTS_NOCHDIR|FTS_SEEDOT), children (phys, and at
 * each dir in pre-order also prints "  child INFO NAME" for the list of
 * fts_children), skip (phys, fts_set FTS_SKIP on dirs named "merged"),
 * nostat (FTS_PHYSICAL|FTS_NOCHDIR|FTS_NOSTAT). */
#include <errno.h>
#include <fts.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const char *info_name(int i)
{
	static const char *names[] = {
		[FTS_D] = "D", [FTS_DC] = "DC", [FTS_DEFAULT] = "DEFAULT",
		[FTS_DNR] = "DNR", [FTS_DOT] = "DOT", [FTS_DP] = "DP",
		[FTS_ERR] = "ERR", [FTS_F] = "F", [FTS_INIT] = "INIT",
		[FTS_NS] = "NS", [FTS_NSOK] = "NSOK", [FTS_SL] = "SL",
		[FTS_SLNONE] = "SLNONE", [FTS_W] = "W",
	};

	if (i < 0 || i > FTS_W || !names[i])
		return "?";
	return names[i];
}

static int by_name(const FTSENT **a, const FTSENT **b)
{
	return strcmp((*a)->fts_name, (*b)->fts_name);
}

int main(int argc, char **argv)
{
	int opts = FTS_PHYSICAL | FTS_NOCHDIR, children = 0, skip = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: fts_probe MODE ROOT\n");
		return 2;
	}
	const char *m = argv[1];
	if (strcmp(m, "logical") == 0)
		opts = FTS_LOGICAL;
	else if (strcmp(m, "seedot") == 0)
		opts |= FTS_SEEDOT;
	else if (strcmp(m, "nostat") == 0)
		opts |= FTS_NOSTAT;
	else if (strcmp(m, "children") == 0)
		children = 1;
	else if (strcmp(m, "skip") == 0)
		skip = 1;
	else if (strcmp(m, "phys") != 0) {
		fprintf(stderr, "fts_probe: unknown mode %s\n", m);
		return 2;
	}
	char *roots[] = { argv[2], NULL };
	size_t rl = strlen(argv[2]);
	FTS *fts = fts_open(roots, opts, by_name);
	if (!fts) {
		printf("fts_open: %s\n", strerrorname_np(errno));
		return 1;
	}
	FTSENT *e;
	while ((e = fts_read(fts)) != NULL) {
		const char *p = e->fts_path;
		printf("%s %d %s%s %s", info_name(e->fts_info), e->fts_level,
		       strncmp(p, argv[2], rl) == 0 ? "ROOT" : "",
		       strncmp(p, argv[2], rl) == 0 ? p + rl : p, e->fts_name);
		struct stat st;
		if (e->fts_info != FTS_NS && e->fts_info != FTS_NSOK &&
		    lstat(e->fts_accpath, &st) != 0)
			printf(" acc!");
		printf("\n");
		if (e->fts_info != FTS_D)
			continue;
		if (skip && strcmp(e->fts_name, "merged") == 0)
			fts_set(fts, e, FTS_SKIP);
		if (children) {
			errno = 0;
			FTSENT *c = fts_children(fts, 0);
			if (!c && errno)
				printf("  children: %s\n", strerrorname_np(errno));
			for (; c; c = c->fts_link)
				printf("  child %s %s\n", info_name(c->fts_info),
				       c->fts_name);
		}
	}
	printf("end errno=%d\n", errno);
	fts_close(fts);
	return 0;
}
