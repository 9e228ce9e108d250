/* walkmemo.c: each thread's last start dir of a base-relative walk
 * (basewalk.c; us_walk_memo_get and _put in walk.h).
 *
 * A walker asks for name after name in one dir: fts's fstatat(dirfd,
 * name) for each entry, git's lstat("dir/name") for each file of a dir.
 * The start dir's node, the base's, whether the caller's fd is open on
 * the top layer's real dir (and that dir's real path), and the dir's key
 * hash in the per-name cache are kept here after a walk started there
 * from the whole-path cache. They are used again while both cache entries
 * they came from are unwritten and valid (us_pcache_still: the generation
 * word of every dir above and the mount's moves word unchanged), for the
 * same base fd on the same real dir: the next name costs no path cache
 * lookup, no real path made for the fd, no hash of the dir's path. When
 * the dir is the base itself (fts: fstatat(dirfd, name)), the fd's
 * mount, layer, st_dev and st_ino find the memo without its path made
 * (us_walk_memo_of_base): one real dir of a layer is one union dir of a
 * mount while no subtree moved, which the entries' words would show.
 *
 * The memo is the thread's own (TLS); its sequence word is odd while it
 * is written, so a signal handler's call that lands then, or a get that a
 * handler's put overlapped, does without it. A vfork child shares its
 * parent's memory, memo included: what it holds is checked the same way.
 * The audit module (no TLS there) keeps none. */
#include <string.h>

#include "walk.h"

#define MEMO_PATH 256 /* longer dirs are not kept */

#if defined(UNIONSHIM_AUDIT)
bool us_walk_memo_get(const struct us_config *cfg, const char *path,
		      size_t dl, const struct us_base *b,
		      struct us_walk_memo *out, struct us_walk_at *at)
{
	(void)cfg, (void)path, (void)dl, (void)b, (void)out, (void)at;
	return false;
}

bool us_walk_memo_of_base(const struct us_config *cfg, const struct us_base *b,
			  char *dir, size_t *dl, struct us_walk_memo *out,
			  struct us_walk_at *at)
{
	(void)cfg, (void)b, (void)dir, (void)dl, (void)out, (void)at;
	return false;
}

void us_walk_memo_put(const struct us_config *cfg, const char *path,
		      size_t dl, const struct us_base *b,
		      const struct us_walk_memo *in, const struct us_walk_at *at)
{
	(void)cfg, (void)path, (void)dl, (void)b, (void)in, (void)at;
}
#else
static __thread struct {
	unsigned seq; /* odd while written */
	const struct us_config *cfg;
	size_t bl, dl;
	int bfd, blayer;
	dev_t bdev;
	uint64_t bino;
	struct us_walk_memo v;
	int at_fd, at_layer;
	size_t at_len;
	char path[MEMO_PATH];
	char real[MEMO_PATH]; /* the top layer's real dir, when v.at_ok */
} memo __attribute__((tls_model("initial-exec")));

#define FENCE() __atomic_signal_fence(__ATOMIC_SEQ_CST)

static bool same_base(const struct us_base *b)
{
	return memo.bl == b->len && memo.bfd == b->fd &&
	       memo.blayer == b->layer &&
	       (b->layer == -1 || (memo.bdev == b->dev && memo.bino == b->ino));
}

/* OUT and AT from the memo read under sequence word S: false when it
 * was written meanwhile or its entries no longer hold. */
static bool take(unsigned s, struct us_walk_memo *out, struct us_walk_at *at)
{
	*out = memo.v;
	if (out->at_ok) {
		size_t rl = memo.at_len;
		if (rl >= MEMO_PATH)
			return false;
		at->fd = memo.at_fd;
		at->layer = memo.at_layer;
		at->len = rl;
		memcpy(at->real, memo.real, rl + 1);
	}
	FENCE();
	if (memo.seq != s)
		return false;
	/* the entries the nodes came from still hold (shared words) */
	return us_pcache_still(&out->dref) &&
	       (!out->bref.entry || out->bref.entry == out->dref.entry ||
		us_pcache_still(&out->bref));
}

bool us_walk_memo_get(const struct us_config *cfg, const char *path,
		      size_t dl, const struct us_base *b,
		      struct us_walk_memo *out, struct us_walk_at *at)
{
	unsigned s = memo.seq;

	FENCE();
	if ((s & 1) || !memo.cfg || memo.cfg != cfg || memo.dl != dl ||
	    !same_base(b) || memcmp(memo.path, path, dl) != 0)
		return false;
	return take(s, out, at);
}

/* A real dir of a layer of one mount is the same union dir while no
 * subtree of the mount moved (which the entries' words would show): the
 * base's fd, mount, layer, st_dev and st_ino stand for its path. */
bool us_walk_memo_of_base(const struct us_config *cfg, const struct us_base *b,
			  char *dir, size_t *dl, struct us_walk_memo *out,
			  struct us_walk_at *at)
{
	unsigned s = memo.seq;

	FENCE();
	if ((s & 1) || !memo.cfg || memo.cfg != cfg || b->layer < 0 ||
	    !b->m || memo.v.m != b->m || memo.dl != memo.bl ||
	    memo.dl >= MEMO_PATH || memo.bfd != b->fd ||
	    memo.blayer != b->layer || memo.bdev != b->dev ||
	    memo.bino != b->ino)
		return false;
	*dl = memo.dl;
	memcpy(dir, memo.path, memo.dl);
	dir[memo.dl] = '\0';
	return take(s, out, at);
}

void us_walk_memo_put(const struct us_config *cfg, const char *path,
		      size_t dl, const struct us_base *b,
		      const struct us_walk_memo *in, const struct us_walk_at *at)
{
	unsigned s = memo.seq;

	if ((s & 1) || dl >= MEMO_PATH ||
	    (in->at_ok && at->len >= MEMO_PATH) || !in->dref.entry)
		return;
	memo.seq = s + 1;
	FENCE();
	memo.cfg = cfg;
	memo.bl = b->len;
	memo.dl = dl;
	memo.bfd = b->fd;
	memo.blayer = b->layer;
	memo.bdev = b->dev;
	memo.bino = b->ino;
	memo.v = *in;
	if (in->at_ok) {
		memo.at_fd = at->fd;
		memo.at_layer = at->layer;
		memo.at_len = at->len;
		memcpy(memo.real, at->real, at->len + 1);
	}
	memcpy(memo.path, path, dl);
	FENCE();
	memo.seq = s + 2;
}
#endif
