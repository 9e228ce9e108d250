/* vcwd.c: the virtual current directory.
 *
 * When the program's cwd is a union dir, the kernel's cwd is the real dir
 * of its topmost layer and this string holds the union path. Readers copy
 * it under a sequence counter (no lock on the path of every relative
 * open); chdir, rare, writes it under a mutex. A child learns the union
 * path from UNIONSHIM_CWD, checked against its real cwd; without it (a
 * parent that did not pass through our exec), a real cwd inside a layer
 * is read back as the union path it belongs to. The kernel cwd's st_dev
 * and st_ino are learnt at the first lookup relative to it (one stat),
 * so that a lookup may stat through it (us_resolve_base). */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>

#include "dirfdpath.h"
#include "forks.h"
#include "front.h"
#include "state.h"
#include "unionshim/lookup.h"
#include "unionshim/scratch.h"
#include "unionshim/startdata.h"

/* The path in whole words (zero after its end), and its length. All
 * zeros at first, read as "/" (a path set starts with '/'): in .bss, not
 * 32 KiB of the library's file mapped into every process. */
#define CWD_WORDS (US_PATH_MAX / 8)
static uint64_t cwd_words[CWD_WORDS];
static size_t cwd_len = 1;
US_START_DATA static unsigned cwd_seq; /* odd while a writer is in the middle */
/* The kernel's cwd (the real dir under the union cwd), learnt at first
 * use (us_cwd_learn) and forgotten by us_cwd_set: valid when known. */
US_START_DATA static bool cwd_known;
/* The mounts' moved-subtree words (us_dirfd_moves_all) when the path was
 * last known right: learnt at the first lookup relative to it, so that a
 * dir rename or removal by anyone is noticed (cwd_follow). */
US_START_DATA static bool cwd_moves_known;
US_START_DATA static uint32_t cwd_moves;
US_START_DATA static uint64_t cwd_dev, cwd_ino;

/* A vfork child's own cwd. The child shares our memory and the vforking
 * thread's TLS, not our kernel cwd: a chdir there (Python's subprocess
 * with cwd=, between its vfork and exec) must not move the parent's, or
 * the parent, resumed, would take its relative names from the child's
 * dir. So the child's chdir sets this, in the thread's scratch tail
 * (scratch.h: two threads' children apart), tagged with the child's
 * number (us_vfork_gen, one more for each child): the child's calls and
 * its exec read it, the parent and later children never do. */
struct vfork_cwd {
	unsigned gen; /* the child's us_vfork_gen; 0: never set */
	size_t n;
	char path[US_PATH_MAX];
};
_Static_assert(sizeof(struct vfork_cwd) <= US_SCRATCH_TAIL,
	       "the vfork child's cwd fits the scratch tail");

/* The cwd this vfork child set, or NULL (not a vfork child, or none). */
static const struct vfork_cwd *vfork_cwd_now(void)
{
	const struct vfork_cwd *v;

	if (!us_in_vfork_child() || !(v = us_scratch_tail()) ||
	    !v->gen || v->gen != us_vfork_gen || v->n >= US_PATH_MAX)
		return NULL;
	return v;
}

/* The cwd as us_cwd_get_base gives it, from V: the kernel cwd's identity
 * not known, a version no learning matches (odd: a writer's). */
static int vfork_cwd_read(const struct vfork_cwd *v, char *buf, size_t len,
			  struct us_base *b, unsigned *seq)
{
	if (v->n + 1 > len) {
		errno = ERANGE;
		return -1;
	}
	memcpy(buf, v->path, v->n + 1);
	if (b) {
		b->fd = AT_FDCWD;
		b->layer = -1;
	}
	if (seq)
		*seq = __atomic_load_n(&cwd_seq, __ATOMIC_ACQUIRE) | 1;
	return 0;
}

/* In a vfork child: keep PATH as its own cwd. False when it cannot be
 * kept (no scratch region: the child's chdir then fails). */
static bool vfork_cwd_set(const char *path)
{
	struct vfork_cwd *v = us_scratch_tail();
	size_t n = strnlen(path, US_PATH_MAX - 1);

	if (!v)
		return false;
	v->gen = 0; /* (a handler's read meanwhile finds none) */
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	memcpy(v->path, path, n);
	v->path[n] = '\0';
	v->n = n;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	v->gen = us_vfork_gen;
	return true;
}

/* A seqlock whose data is read and written with atomic word accesses:
 * the acquire loads keep every word read before the second read of the
 * counter, the writer's acq_rel increment keeps every word written after
 * the counter went odd. No fences: ThreadSanitizer checks this as is. */
int us_cwd_get(char *buf, size_t len)
{
	return us_cwd_get_base(buf, len, NULL, NULL, NULL) < 0 ? -1 : 0;
}

static int is_real_cwd(const char *upath);

/* Write the cwd's words (under the lock, the counter odd). */
static void put_path(const char *path)
{
	size_t n = strnlen(path, US_PATH_MAX - 1);

	for (size_t i = 0; i * 8 < n + 1; i++) {
		uint64_t w = 0;
		memcpy(&w, path + i * 8, n - i * 8 < 8 ? n - i * 8 : 8);
		__atomic_store_n(&cwd_words[i], w, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&cwd_len, n, __ATOMIC_RELAXED);
	__atomic_store_n(&cwd_known, false, __ATOMIC_RELAXED);
}

/* Where the kernel's cwd, which follows its dir, is now in union terms,
 * when that is not CUR: its real path read back, into UP (LEN bytes),
 * naming a union dir that holds it. */
static bool moved_to(const char *cur, char *up, size_t len)
{
	US_SCRATCH_SCOPE;
	char *real = us_scratch_push(US_PATH_MAX);

	return real && US_REAL(getcwd)(real, US_PATH_MAX) &&
	       us_revmap(&us_cfg, real, up, len, NULL) == 1 &&
	       strcmp(up, cur) != 0 && is_real_cwd(up);
}

/* The cwd of version SEQ (path CUR) is right as of the moved-subtree
 * words NOW. With LOOK, a dir of the union moved or went since it was
 * known right: the kernel's cwd follows its dir, so read its path back (an
 * upper dir's real path is its new place) and take the union path it
 * names when that leads to the kernel's cwd, as overlayfs's cwd follows a
 * renamed dir. */
static void cwd_settle(unsigned seq, const char *cur, uint32_t now, bool look)
{
	US_SCRATCH_SCOPE;
	char *up = look ? us_scratch_push(US_PATH_MAX) : NULL;
	const char *fresh = up && moved_to(cur, up, US_PATH_MAX) ? up : NULL;

	if (!us_lock_unless_mine(US_LOCK_CWD))
		return;
	if (__atomic_load_n(&cwd_seq, __ATOMIC_ACQUIRE) == seq) {
		__atomic_add_fetch(&cwd_seq, 1, __ATOMIC_ACQ_REL);
		if (fresh)
			put_path(fresh);
		__atomic_store_n(&cwd_moves, now, __ATOMIC_RELAXED);
		__atomic_store_n(&cwd_moves_known, true, __ATOMIC_RELAXED);
		__atomic_add_fetch(&cwd_seq, 1, __ATOMIC_RELEASE);
	}
	us_unlock(US_LOCK_CWD);
}

static int read_cwd(char *buf, size_t len, struct us_base *b, unsigned *seq,
		    bool *moves_known, uint32_t *moves);

/* Does the cwd BUF, of version SEQ, lie in a mount? This thread's last
 * answer, by version, in one word (a signal handler sees it whole). */
static __thread uint64_t in_mount_at __attribute__((tls_model("initial-exec")));

static bool cwd_in_mount(unsigned seq, const char *buf)
{
	uint64_t w = in_mount_at;

	if (w && (unsigned)(w >> 2) == seq)
		return w & 1;
	bool in = us_mount_of(&us_cfg, buf) != NULL;
	in_mount_at = (uint64_t)seq << 2 | 2 | in;
	return in;
}

int us_cwd_get_base(char *buf, size_t len, struct us_base *b, unsigned *seq,
		    uint32_t *moves)
{
	int saved = errno;
	const struct vfork_cwd *v = vfork_cwd_now();

	if (v) /* (no moves read: the parent's cwd is not this) */
		return vfork_cwd_read(v, buf, len, b, seq);

	for (int round = 0;; round++) {
		unsigned s1;
		bool mk;
		uint32_t mv;
		if (read_cwd(buf, len, b, &s1, &mk, &mv) < 0)
			return -1;
		if (seq)
			*seq = s1;
		/* a cwd in a union, asked for a lookup (getcwd alone never
		 * maps #state) or watched already: did a dir move since? */
		if (round > 0 || us_nested() || (!mk && !b) ||
		    !cwd_in_mount(s1, buf))
			return 0;
		uint32_t now = us_dirfd_moves_all();
		errno = saved;
		if (moves)
			*moves = now;
		if (mk && now == mv)
			return 1;
		cwd_settle(s1, buf, now, mk); /* the first lookup: watch from now */
		if (moves) { /* read again below; NOW stays read before it */
			unsigned s2;
			if (read_cwd(buf, len, b, &s2, &mk, &mv) < 0)
				return -1;
			if (seq)
				*seq = s2;
			return 1;
		}
	}
}

/* This thread's copy of its last consistent read, by the counter it was
 * made at (every change of the cwd's data moves the counter): the next
 * relative call copies its own bytes, not the shared words one atomic
 * load at a time. A signal handler that lands while it is written finds
 * it unfilled; a vfork child writes its parent's, which stays right. */
#define CWD_COPY 256
static __thread struct {
	bool filled;
	bool known, moves_known;
	unsigned seq;
	uint32_t moves;
	size_t n;
	uint64_t dev, ino;
	char path[CWD_COPY];
} mine __attribute__((tls_model("initial-exec")));

#define SIGFENCE() __atomic_signal_fence(__ATOMIC_SEQ_CST)

static void fill_base(struct us_base *b, bool known, uint64_t dev, uint64_t ino)
{
	if (b) {
		b->fd = AT_FDCWD;
		b->layer = known ? US_BASE_ANY_LAYER : -1;
		b->dev = (dev_t)dev;
		b->ino = ino;
	}
}

/* One consistent read of the cwd: its path into BUF (LEN bytes), B's
 * kernel-cwd identity, its version and the words it is right as of. */
static int read_cwd(char *buf, size_t len, struct us_base *b, unsigned *seq,
		    bool *moves_known, uint32_t *moves)
{
	us_fork_check(); /* a writer's thread may be gone */
	unsigned s0 = __atomic_load_n(&cwd_seq, __ATOMIC_ACQUIRE);
	if (mine.filled && mine.seq == s0 && mine.n + 1 <= len) {
		SIGFENCE();
		memcpy(buf, mine.path, mine.n + 1);
		*moves_known = mine.moves_known;
		*moves = mine.moves;
		fill_base(b, mine.known, mine.dev, mine.ino);
		SIGFENCE();
		if (mine.filled && mine.seq == s0) {
			if (seq)
				*seq = s0;
			return 0;
		}
	}
	for (;;) {
		unsigned s1 = __atomic_load_n(&cwd_seq, __ATOMIC_ACQUIRE);
		if ((s1 & 1) && us_nested() && (us_held & (1u << US_LOCK_CWD))) {
			errno = EAGAIN; /* the writer is the code we interrupted */
			return -1;
		}
		if (s1 & 1)
			continue;
		size_t n = __atomic_load_n(&cwd_len, __ATOMIC_ACQUIRE);
		if (n > US_PATH_MAX - 1)
			continue; /* torn: the counter has moved */
		for (size_t i = 0; i * 8 < n + 1 && i * 8 < len; i++) {
			uint64_t w = __atomic_load_n(&cwd_words[i], __ATOMIC_ACQUIRE);
			if (!i && !w)
				w = '/'; /* never set */
			if (len - i * 8 >= 8) /* (a whole word: no call) */
				memcpy(buf + i * 8, &w, 8);
			else
				memcpy(buf + i * 8, &w, len - i * 8);
		}
		bool known = __atomic_load_n(&cwd_known, __ATOMIC_ACQUIRE);
		uint64_t dev = __atomic_load_n(&cwd_dev, __ATOMIC_ACQUIRE);
		uint64_t ino = __atomic_load_n(&cwd_ino, __ATOMIC_ACQUIRE);
		*moves_known = __atomic_load_n(&cwd_moves_known, __ATOMIC_ACQUIRE);
		*moves = __atomic_load_n(&cwd_moves, __ATOMIC_ACQUIRE);
		if (__atomic_load_n(&cwd_seq, __ATOMIC_ACQUIRE) != s1)
			continue;
		if (n + 1 > len) {
			errno = ERANGE;
			return -1;
		}
		buf[n] = '\0';
		fill_base(b, known, dev, ino);
		if (seq)
			*seq = s1;
		if (n < CWD_COPY) {
			mine.filled = false;
			SIGFENCE();
			memcpy(mine.path, buf, n + 1);
			mine.n = n;
			mine.known = known;
			mine.dev = dev;
			mine.ino = ino;
			mine.moves_known = *moves_known;
			mine.moves = *moves;
			mine.seq = s1;
			SIGFENCE();
			mine.filled = true;
		}
		return 0;
	}
}

void us_cwd_learn(unsigned seq, struct us_base *b)
{
	struct stat st;

	if (US_REAL(stat)(".", &st) < 0 || !us_lock_unless_mine(US_LOCK_CWD))
		return;
	if (__atomic_load_n(&cwd_seq, __ATOMIC_ACQUIRE) == seq) {
		/* the cwd this call's lookup starts from, unchanged since */
		__atomic_add_fetch(&cwd_seq, 1, __ATOMIC_ACQ_REL);
		__atomic_store_n(&cwd_dev, (uint64_t)st.st_dev, __ATOMIC_RELAXED);
		__atomic_store_n(&cwd_ino, (uint64_t)st.st_ino, __ATOMIC_RELAXED);
		__atomic_store_n(&cwd_known, true, __ATOMIC_RELAXED);
		__atomic_add_fetch(&cwd_seq, 1, __ATOMIC_RELEASE);
		b->layer = US_BASE_ANY_LAYER;
		b->dev = st.st_dev;
		b->ino = st.st_ino;
	}
	us_unlock(US_LOCK_CWD);
}

void us_cwd_set(const char *path)
{
	if (us_in_vfork_child() && vfork_cwd_set(path))
		return; /* the child's own: ours stays where we are */
	if (!us_lock_unless_mine(US_LOCK_CWD))
		return; /* a handler's chdir inside a chdir: the outer one wins */
	__atomic_add_fetch(&cwd_seq, 1, __ATOMIC_ACQ_REL);
	put_path(path);
	__atomic_store_n(&cwd_moves_known, false, __ATOMIC_RELAXED);
	__atomic_add_fetch(&cwd_seq, 1, __ATOMIC_RELEASE);
	us_unlock(US_LOCK_CWD);
}

/* Does union path UPATH resolve to a dir one of whose layers' copies is
 * the real cwd? (A copy-up may have put a newer copy above the one the
 * parent sat in when it started us.) */
static int is_real_cwd(const char *upath)
{
	US_SCRATCH_SCOPE;
	struct {
		char real[US_PATH_MAX];
		struct us_resolved r;
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return 0;
	struct stat a, b;

	if (us_resolve(&us_cfg, upath, 0, &sb->r) < 0 || sb->r.err ||
	    sb->r.where != US_INSIDE || !S_ISDIR(sb->r.node.mode) ||
	    US_REAL(stat)(".", &b) < 0)
		return 0;
	for (int i = 0; i < sb->r.m->nlayers; i++) {
		if (!(sb->r.node.dirs & ((us_layermask)1 << i)) ||
		    us_layer_path(sb->r.m, i, sb->r.path, sb->real, sizeof sb->real) < 0)
			continue;
		if (US_REAL(stat)(sb->real, &a) == 0 && a.st_dev == b.st_dev &&
		    a.st_ino == b.st_ino)
			return 1;
	}
	return 0;
}

/* Is union path UPATH a dir now, and one whose layers hold the kernel's
 * cwd (ST)? 1 yes, 0 no, -1 cannot tell. The kernel's cwd is the top
 * layer's dir at the chdir, which the dir's node names unless a copy-up
 * put a newer copy above since (then each layer is asked). */
static int still_here(const char *upath, const struct stat *st)
{
	US_SCRATCH_SCOPE;
	struct us_resolved *r = us_scratch_push(sizeof *r);
	if (!r)
		return -1;
	if (us_resolve(&us_cfg, upath, 0, r) < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	if (r->where != US_INSIDE)
		return 1;
	if (r->err || !S_ISDIR(r->node.mode))
		return 0;
	if (!st || (!r->node.dev && !r->node.ino) || /* (a mount's root) */
	    (r->node.dev == st->st_dev && r->node.ino == (uint64_t)st->st_ino))
		return 1;
	return is_real_cwd(upath); /* (a dir made anew there is not ours) */
}

int us_cwd_still(char *buf, size_t len)
{
	struct stat st;
	int saved = errno;
	bool known = US_REAL(stat)(".", &st) == 0 && S_ISDIR(st.st_mode);

	/* the kernel's cwd removed (an upper dir: no links left) */
	if (known && st.st_nlink == 0) {
		errno = saved;
		return 0;
	}
	/* (a path past PATH_MAX: its layer copies cannot be stat'ed by
	 * path, so only a removed upper dir is told) */
	int now = strlen(buf) < PATH_MAX ? still_here(buf, known ? &st : NULL) : 1;
	errno = saved;
	if (now != 0)
		return 1;
	/* gone from its path: moved (the kernel's cwd follows its dir: read
	 * its path back), or removed (a lower dir, whited out; a dir made
	 * anew at its path is another dir) */
	US_SCRATCH_SCOPE;
	char *up = us_scratch_push(US_PATH_MAX);
	bool found = up && moved_to(buf, up, US_PATH_MAX) && strlen(up) < len;
	errno = saved;
	if (!found)
		return 0;
	us_cwd_set(up);
	strcpy(buf, up);
	return 1;
}

/* The cwd from the kernel's: a real dir inside a layer is read back as
 * the union dir it belongs to, unless INHERITED names it as it is. */
static void from_real_cwd(const char *inherited)
{
	US_SCRATCH_SCOPE;
	struct {
		char real[US_PATH_MAX];
		char up[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	if (!sb)
		return;

	if (!US_REAL(getcwd)(sb->real, sizeof sb->real))
		return;
	if (inherited && strcmp(inherited, sb->real) == 0) {
		us_cwd_set(sb->real); /* a lower's own path stays that path */
		return;
	}
	if (us_revmap(&us_cfg, sb->real, sb->up, sizeof sb->up, NULL) == 1)
		us_cwd_set(sb->up);
	else
		us_cwd_set(sb->real);
}

/* Is the real cwd's own path INHERITED, or a layer path that reads back
 * as INHERITED? Then what follows would adopt INHERITED whatever it
 * found: one getcwd instead of a lookup, a stat per layer copy and the
 * caches that lookup maps. REAL and UP hold LEN bytes each; -1 when the
 * cwd is longer. */
static int names_real_cwd(const char *inherited, char *real, char *up, size_t len)
{
	if (!US_REAL(getcwd)(real, len))
		return errno == ERANGE ? -1 : 0;
	if (strcmp(inherited, real) == 0)
		return 1;
	int r = us_revmap(&us_cfg, real, up, len, NULL);
	return r < 0 ? -1 : r == 1 && strcmp(inherited, up) == 0;
}

/* With small buffers on the constructor's stack (no page of the
 * library's own data to fault in, and a process that makes no union call
 * maps no scratch region), else (a longer cwd) the scratch's. */
static int names_real_cwd_any(const char *inherited)
{
	struct {
		char real[512];
		char up[512];
	} small;
	int r = names_real_cwd(inherited, small.real, small.up,
			       sizeof small.real);
	if (r >= 0)
		return r;
	US_SCRATCH_SCOPE;
	struct {
		char real[US_PATH_MAX];
		char up[US_PATH_MAX];
	} *sb = us_scratch_push(sizeof *sb);
	return sb && names_real_cwd(inherited, sb->real, sb->up, sizeof sb->real) == 1;
}

/* Run once, by the constructor. */
void us_cwd_init(void)
{
	const char *inherited = getenv(US_ENV_CWD);

	if (inherited && inherited[0] == '/' &&
	    (names_real_cwd_any(inherited) || is_real_cwd(inherited))) {
		us_cwd_set(inherited);
		return;
	}
	from_real_cwd(inherited);
}

void us_cwd_forked(void)
{
	if (!(__atomic_load_n(&cwd_seq, __ATOMIC_RELAXED) & 1))
		return;
	__atomic_add_fetch(&cwd_seq, 1, __ATOMIC_RELEASE); /* torn: read back */
	from_real_cwd(NULL);
}
