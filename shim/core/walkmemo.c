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
 * lookup, no real path made for the fd, no hash of the dir's path.
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

bool us_walk_memo_get(const struct us_config *cfg, const char *path,
		      size_t dl, const struct us_base *b,
		      struct us_walk_memo *out, struct us_walk_at *at)
{
	unsigned s = memo.seq;

	FENCE();
	if ((s & 1) || !memo.cfg || memo.cfg != cfg || memo.dl != dl ||
	    !same_base(b) || memcmp(memo.path, path, dl) != 0)
		return false;
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
