/* lcache.c: the per-process lookup cache (see lcache.h).
 *
 * A table of 4-way sets, small first and bigger as the process needs
 * (growtable.h: a short-lived program touches a few pages, not one per
 * lookup). Every field of an entry is read and written with atomic loads
 * and stores: a reader takes the sequence word, copies, and takes it
 * again; an odd or changed word is a miss. A writer
 * claims an entry by turning its word odd (compare-and-swap: a claimed
 * entry is skipped, never waited for). The key is exact for the name and
 * the mount, and the union dir's path is known by its 64-bit hash and
 * length (two dirs of one mount with the same length, layer set and hash
 * would share entries: a known limit). */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "growtable.h"
#include "hashmix.h"
#include "unionshim/lcache.h"
#include "unionshim/shared.h"

#define WAYS US_GT_WAYS
#define NAME_WORDS (US_LCACHE_NAME / 8)
#define NEGATIVE ((uint64_t)1 << 24)
#define FLAGS_SHIFT 25 /* us_node.flags, 6 bits */
#define FLAGS_MASK 0x3fu
#define SEED ((uint64_t)1 << 31) /* a seed: the layer to start from */
/* The seeds of one listing, at most (more would push the entries of
 * the dirs above out of the cache). */
#define SEED_MAX (US_LCACHE_ENTRIES / 4)

struct entry {
	uint32_t seq;   /* odd while being written */
	uint32_t stamp; /* when stored: the oldest way goes first */
	uint64_t phash, m, pdirs;
	uint64_t lens;  /* dir path length | name length << 16 | NEGATIVE |
			   node flags << FLAGS_SHIFT | SEED |
			   winning layer << 32 */
	uint64_t gens;  /* dir generation | mount's moves generation << 32 */
	uint64_t mode, dirs, dev, ino, nlink;
	uint64_t name[NAME_WORDS];
};
_Static_assert(offsetof(struct entry, stamp) == 4, "growtable.h: seq, then stamp");
_Static_assert(sizeof(struct entry) == 128, "two cache lines an entry");

static void move(const void *from, size_t n, void *to, uint32_t sets);
static struct us_growtable table =
	US_GROWTABLE(struct entry, US_LCACHE_ENTRIES, move);
static uint32_t clock_;  /* stamps */
static uint32_t epoch;   /* us_lcache_forget: added to every generation */
static uint32_t writers; /* entries being written now (after_fork) */
static uint64_t n_hits, n_misses, n_stores, n_seeds, n_seeded;

/* Acquire loads and release stores (plain moves on x86-64): a reader that
 * sees a field a writer stored sees its sequence word odd after it, with
 * no fence (which ThreadSanitizer cannot follow). */
#define LOAD(p) __atomic_load_n(p, __ATOMIC_ACQUIRE)
#define STORE(p, v) __atomic_store_n(p, v, __ATOMIC_RELEASE)

/* A counter only this module reads: lossy, but no locked instruction. */
static inline void count(uint64_t *c)
{
	STORE(c, LOAD(c) + 1);
}

/* The same in every process: the dir's generation slot comes from it.
 * In two steps, so a walk down one path hashes each of its words once
 * (us_lcache_dirgen_prefix): the whole words of a prefix, then the end. */
#define HASH_SEED UINT64_C(0x9e3779b97f4a7c15)

static uint64_t hash_words(uint64_t h, const char *s, size_t from, size_t to)
{
	uint64_t w;

	for (size_t i = from; i < to; i += 8) {
		memcpy(&w, s + i, 8);
		h = us_mix(h, w);
	}
	return h;
}

static uint64_t hash_end(uint64_t h, const char *s, size_t n)
{
	size_t whole = n & ~(size_t)7;
	uint64_t w = 0;

	for (size_t j = n; j-- > whole;) /* the last bytes, as a word */
		w = w << 8 | (unsigned char)s[j];
	if (n > whole)
		h = us_mix(h, w);
	h = us_mix(h, n);
	h ^= h >> 29;
	h *= UINT64_C(0x94d049bb133111eb);
	return h ^ (h >> 32);
}

static uint64_t path_hash(const char *s, size_t n)
{
	return hash_end(hash_words(HASH_SEED, s, 0, n & ~(size_t)7), s, n);
}

/* The generations an entry of M for dir hash PHASH must carry to be
 * valid now; false when M changes but cannot tell (no shared state). */
static bool gens_now(const struct us_mount *m, uint64_t phash, uint32_t *gdir,
		     uint32_t *gall)
{
	uint32_t e = __atomic_load_n(&epoch, __ATOMIC_ACQUIRE);

	*gdir = *gall = e;
	if (!m->work)
		return true;
	const uint32_t *moves;
	const uint32_t *dir = us_shared_dirgen(m, phash, &moves);
	if (!dir)
		return false;
	uint32_t g = __atomic_load_n(dir, __ATOMIC_ACQUIRE);
	uint32_t mv = __atomic_load_n(moves, __ATOMIC_ACQUIRE);
	if ((g | mv) & US_DIRGEN_BUSY)
		return false; /* a change under way may show already */
	*gdir += g;
	*gall += mv;
	return true;
}

/* The set of a key (its hash bits, masked by a table's sets). */
static unsigned set_of(uint64_t phash, uint64_t m, uint64_t pdirs,
		       const uint64_t *name)
{
	uint64_t h = us_mix(us_mix(phash, m), pdirs);

	for (int i = 0; i < NAME_WORDS && name[i]; i++)
		h = us_mix(h, name[i]);
	return (unsigned)us_mix_end(h);
}

/* growtable.h's move: the entries of table FROM (N) into TO (SETS sets),
 * which no other thread sees yet. */
static void move(const void *from, size_t n, void *to, uint32_t sets)
{
	const struct entry *src = from;
	struct entry *dst = to;

	for (size_t i = 0; i < n; i++) {
		const struct entry *e = &src[i];
		uint32_t s = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
		struct entry c = {.seq = 0};
		if (s & 1)
			continue;
		c.stamp = LOAD(&e->stamp);
		c.phash = LOAD(&e->phash);
		c.m = LOAD(&e->m);
		c.pdirs = LOAD(&e->pdirs);
		c.lens = LOAD(&e->lens);
		c.gens = LOAD(&e->gens);
		c.mode = LOAD(&e->mode);
		c.dirs = LOAD(&e->dirs);
		c.dev = LOAD(&e->dev);
		c.ino = LOAD(&e->ino);
		c.nlink = LOAD(&e->nlink);
		for (int w = 0; w < NAME_WORDS; w++)
			c.name[w] = LOAD(&e->name[w]);
		if (!c.m || LOAD(&e->seq) != s)
			continue;
		struct entry *way = us_gt_place(&table, dst, sets,
						set_of(c.phash, c.m, c.pdirs, c.name), c.stamp);
		if (way)
			*way = c;
	}
}

/* The key of NAME in the dir of path hash PHASH and length PL of mount
 * M (as a number) whose layers are PDIRS. */
static bool key_fill(uint64_t phash, size_t pl, uint64_t m, uint64_t pdirs,
		     const char *name, struct us_lc_miss *k)
{
	size_t nl = strlen(name);

	k->storable = false;
	if (nl > US_LCACHE_NAME || pl > 0xffff)
		return false;
	memset(k->name, 0, sizeof k->name);
	memcpy(k->name, name, nl);
	k->phash = phash;
	k->m = m;
	k->pdirs = pdirs;
	k->lens = pl | (uint64_t)nl << 16;
	k->set = set_of(k->phash, k->m, k->pdirs, k->name);
	k->table = NULL;
	k->way = -1;
	return true;
}

static bool key_of(const struct us_mount *m, const char *upath,
		   const uint64_t *phash, const struct us_node *dir,
		   const char *name, struct us_lc_miss *k)
{
	size_t pl = strlen(upath);

	k->storable = false;
	if (pl > 0xffff)
		return false;
	return key_fill(phash ? *phash : path_hash(upath, pl), pl,
			(uint64_t)(uintptr_t)m, dir->dirs, name, k);
}

static inline __attribute__((always_inline)) bool
same_key(const struct entry *e, const struct us_lc_miss *k)
{
	if (LOAD(&e->phash) != k->phash || LOAD(&e->m) != k->m ||
	    LOAD(&e->pdirs) != k->pdirs ||
	    (LOAD(&e->lens) & 0xffffff) != k->lens)
		return false;
	for (int i = 0; i < NAME_WORDS; i++)
		if (LOAD(&e->name[i]) != k->name[i])
			return false;
	return true;
}

/* Copy entry E when it holds key K, unchanged while read. */
static inline __attribute__((always_inline)) bool read_entry(const struct entry *e, const struct us_lc_miss *k,
		       uint64_t *lens, uint64_t *gens, struct us_node *n)
{
	uint32_t s = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);

	if ((s & 1) || !same_key(e, k))
		return false;
	*lens = LOAD(&e->lens);
	*gens = LOAD(&e->gens);
	n->mode = (mode_t)LOAD(&e->mode);
	n->dirs = LOAD(&e->dirs);
	n->dev = (dev_t)LOAD(&e->dev);
	n->ino = LOAD(&e->ino);
	n->nlink = LOAD(&e->nlink);
	n->layer = (int)(*lens >> 32);
	n->flags = (unsigned)(*lens >> FLAGS_SHIFT) & FLAGS_MASK;
	return LOAD(&e->seq) == s;
}

/* How fit way E (sequence word S, even) of a set is to take key K's
 * store: 0 it holds K, 1 free, 2 stale (not WANT's generations), 3 in
 * use (its AGE then counts: the oldest goes). */
static inline __attribute__((always_inline)) int
way_rank(const struct entry *e, const struct us_lc_miss *k, uint64_t want,
	 uint32_t now, uint32_t *age)
{
	*age = now - LOAD(&e->stamp);
	if (same_key(e, k))
		return 0;
	if (!LOAD(&e->m))
		return 1;
	return LOAD(&e->gens) != want ? 2 : 3;
}

/* Is a way of rank R and age AGE a better victim than the best so far
 * (*RANK, *OLDEST)? */
static inline bool better_victim(int r, uint32_t age, int rank, uint32_t oldest)
{
	return r < rank || (r == 3 && rank == 3 && age > oldest);
}

int us_lcache_get(const struct us_mount *m, const char *upath,
		  const uint64_t *phash, const struct us_node *dir,
		  const char *name, struct us_node *child, int *err,
		  struct us_lc_miss *miss)
{
	uint32_t sets;
	struct entry *t = us_gt_now(&table, &sets);

	if (!key_of(m, upath, phash, dir, name, miss) ||
	    !gens_now(m, miss->phash, &miss->gdir, &miss->gall))
		return 0;
	miss->storable = true;
	if (t) {
		uint64_t want = miss->gdir | (uint64_t)miss->gall << 32;
		struct entry *set = us_gt_set(&table, t, sets, miss->set);
		uint32_t now = LOAD(&clock_), oldest = 0;
		int rank = 4;
		for (int i = 0; i < WAYS; i++) {
			uint64_t lens, gens;
			struct us_node n;
			uint32_t s = __atomic_load_n(&set[i].seq, __ATOMIC_ACQUIRE);
			if (!read_entry(&set[i], miss, &lens, &gens, &n) ||
			    gens != want) {
				/* the way a store of this miss would take */
				uint32_t age;
				int r;
				if (s & 1)
					continue;
				r = way_rank(&set[i], miss, want, now, &age);
				if (better_victim(r, age, rank, oldest) &&
				    LOAD(&set[i].seq) == s) {
					miss->way = i;
					miss->wseq = s;
					miss->rank = rank = r;
					oldest = age;
				}
				continue;
			}
			if (lens & SEED) {
				count(&n_seeded);
				child->layer = n.layer;
				return 2;
			}
			count(&n_hits);
			us_gt_keep(&set[i].stamp, LOAD(&clock_), sets);
			*err = (lens & NEGATIVE) ? ENOENT : 0;
			if (!*err)
				*child = n;
			else
				child->flags = n.flags;
			return 1;
		}
		if (miss->way >= 0)
			miss->table = t;
	}
	count(&n_misses);
	return 0;
}

/* A key's fingerprint for growtable.h's ghosts (its dir and first name
 * words: the same key, the same fingerprint). */
static uint64_t fingerprint(uint64_t phash, const uint64_t *name)
{
	return us_mix_end(us_mix(us_mix(phash, name[0]), name[1]));
}

/* The way of SET to write: the key's own (*RANK 0), else a free or stale
 * one (1, 2), else the oldest (3: a fresh entry of another key goes, its
 * fingerprint in *GONE). Its sequence word is returned claimed (odd), or
 * NULL. */
static struct entry *claim(struct entry *set, const struct us_lc_miss *k,
			   int *rank_out, uint64_t *gone)
{
	uint64_t want = k->gdir | (uint64_t)k->gall << 32;
	struct entry *best = NULL;
	int rank = 4; /* 0 same key, 1 free, 2 stale, 3 oldest */
	uint32_t oldest = 0, now = LOAD(&clock_);

	for (int i = 0; i < WAYS; i++) {
		struct entry *e = &set[i];
		uint32_t s = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE), age;
		if (s & 1)
			continue;
		int r = way_rank(e, k, want, now, &age);
		if (better_victim(r, age, rank, oldest)) {
			best = e;
			rank = r;
			oldest = age;
		}
	}
	if (!best)
		return NULL;
	uint32_t s = __atomic_load_n(&best->seq, __ATOMIC_RELAXED);
	if ((s & 1) || !__atomic_compare_exchange_n(&best->seq, &s, s + 1, false,
						    __ATOMIC_ACQUIRE,
						    __ATOMIC_RELAXED))
		return NULL;
	*rank_out = rank;
	if (rank == 3)
		*gone = fingerprint(LOAD(&best->phash), best->name);
	return best;
}

/* Write key K's entry: WHAT (NEGATIVE, SEED or 0) with CHILD (for 0 and
 * SEED: its layer alone). */
static void store(const struct us_lc_miss *k, uint64_t what,
		  const struct us_node *child, uint64_t *counter)
{
	uint32_t sets;
	struct entry *t = us_gt_get(&table, &sets);
	if (!t)
		return;
	bool err = what == NEGATIVE;
	int rank = 0;
	uint64_t gone = 0;
	__atomic_add_fetch(&writers, 1, __ATOMIC_RELAXED);
	struct entry *set = us_gt_set(&table, t, sets, k->set);
	struct entry *e = NULL;
	if (k->table == t && k->way >= 0) { /* the miss's pick, unchanged */
		uint32_t s = k->wseq;
		e = &set[k->way];
		if (__atomic_compare_exchange_n(&e->seq, &s, s + 1, false,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
			rank = k->rank;
			if (rank == 3)
				gone = fingerprint(LOAD(&e->phash), e->name);
		} else {
			e = NULL;
		}
	}
	if (!e)
		e = claim(set, k, &rank, &gone);
	if (e) {
		STORE(&e->phash, k->phash);
		STORE(&e->m, k->m);
		STORE(&e->pdirs, k->pdirs);
		/* a name in no layer keeps its flags (US_NODE_UPPER_*) */
		STORE(&e->lens, k->lens | (uint64_t)(child->flags & FLAGS_MASK)
						  << FLAGS_SHIFT |
					(err ? NEGATIVE
					     : what | (uint64_t)child->layer << 32));
		STORE(&e->gens, k->gdir | (uint64_t)k->gall << 32);
		STORE(&e->mode, err ? 0 : (uint64_t)child->mode);
		STORE(&e->dirs, err ? 0 : child->dirs);
		STORE(&e->dev, err ? 0 : (uint64_t)child->dev);
		STORE(&e->ino, err ? 0 : child->ino);
		STORE(&e->nlink, err ? 0 : child->nlink);
		for (int i = 0; i < NAME_WORDS; i++)
			STORE(&e->name[i], k->name[i]);
		STORE(&e->stamp, __atomic_add_fetch(&clock_, 1, __ATOMIC_RELAXED));
		__atomic_add_fetch(&e->seq, 1, __ATOMIC_RELEASE);
		count(counter);
	}
	__atomic_sub_fetch(&writers, 1, __ATOMIC_RELAXED);
	if (rank == 3)
		us_gt_pushed_out(&table, t, gone);
	/* a lookup's answer (not a seed) for a key the table had lost */
	if (e && rank && what != SEED)
		us_gt_stored_anew(&table, t, sets, fingerprint(k->phash, k->name));
}

void us_lcache_put(const struct us_lc_miss *k, int err,
		   const struct us_node *child)
{
	if (!k->storable || (err != 0 && err != ENOENT))
		return;
	store(k, err ? NEGATIVE : 0, child, &n_stores);
}

void us_lcache_seed_begin(struct us_lc_seed *s, const struct us_mount *m,
			  const char *upath, us_layermask dirs, uint32_t ep,
			  uint32_t gdir, uint32_t gmoves)
{
	s->pl = strlen(upath);
	s->ok = s->pl <= 0xffff;
	s->phash = s->ok ? path_hash(upath, s->pl) : 0;
	s->m = (uint64_t)(uintptr_t)m;
	s->pdirs = dirs;
	s->gdir = ep + gdir;
	s->gall = ep + gmoves;
	s->left = SEED_MAX;
}

void us_lcache_seed(struct us_lc_seed *s, const char *name, int layer)
{
	struct us_lc_miss k;
	struct us_node n = {.layer = layer};
	uint64_t want = s->gdir | (uint64_t)s->gall << 32;

	/* the dir's own top layer: a lookup starts there anyway */
	if (!s->ok || !s->left ||
	    layer <= __builtin_ctzll(s->pdirs | (uint64_t)1 << 63) ||
	    !key_fill(s->phash, s->pl, s->m, s->pdirs, name, &k))
		return;
	k.gdir = s->gdir;
	k.gall = s->gall;
	uint32_t sets;
	struct entry *t = us_gt_now(&table, &sets);
	/* room for four times the listing's seeds so far, and more than the
	 * first table's: they would push each other out of a small table */
	size_t room = 4 * (size_t)(SEED_MAX - s->left + 1);
	uint32_t first = us_gt_entries_at(US_LCACHE_ENTRIES, 0);
	us_gt_room_for(&table, t, sets, room > first ? room : first + 1);
	t = us_gt_now(&table, &sets);
	if (t) { /* an answer as fresh as the seed is worth more */
		struct entry *set = us_gt_set(&table, t, sets, k.set);
		for (int i = 0; i < WAYS; i++) {
			uint64_t lens, gens;
			struct us_node old;
			if (read_entry(&set[i], &k, &lens, &gens, &old) &&
			    gens == want)
				return;
		}
	}
	s->left--;
	store(&k, SEED, &n, &n_seeds);
}

/* The bumps run after a change, often a failed one: errno is the call's. */
void us_lcache_dir_changed(const struct us_mount *m, const char *dir)
{
	int saved = errno;

	if (!us_shared_dir_bump(m, path_hash(dir, strlen(dir))))
		us_lcache_forget(); /* not announced: at least not stale here */
	errno = saved;
}

void us_lcache_name_changed(const struct us_mount *m, const char *upath)
{
	const char *slash = strrchr(upath, '/');
	int saved = errno;

	if (slash && !us_shared_dir_bump(m, path_hash(upath, (size_t)(slash - upath))))
		us_lcache_forget(); /* not announced: at least not stale here */
	errno = saved;
}

bool us_lcache_change_begin(const struct us_mount *m, const char *upath,
			    bool moves)
{
	const char *slash = strrchr(upath, '/');
	int saved = errno;
	bool ok = slash && us_shared_dir_begin(m, path_hash(upath, (size_t)(slash - upath)));

	if (ok && moves && !us_shared_moves_begin(m)) {
		us_shared_dir_end(m, path_hash(upath, (size_t)(slash - upath)));
		ok = false;
	}
	errno = saved;
	return ok;
}

void us_lcache_change_end(const struct us_mount *m, const char *upath,
			  bool moves, bool begun)
{
	int saved = errno;

	if (!begun) { /* announced after the fact, as before */
		us_lcache_name_changed(m, upath);
		if (moves)
			us_lcache_moved(m);
		errno = saved;
		return;
	}
	const char *slash = strrchr(upath, '/');
	us_shared_dir_end(m, path_hash(upath, (size_t)(slash - upath)));
	if (moves)
		us_shared_moves_end(m);
	errno = saved;
}

void us_lcache_moved(const struct us_mount *m)
{
	int saved = errno;

	if (!us_shared_moves_bump(m))
		us_lcache_forget();
	errno = saved;
}

uint32_t us_lcache_epoch(void)
{
	return __atomic_load_n(&epoch, __ATOMIC_ACQUIRE);
}

const uint32_t *us_lcache_dirgen(const struct us_mount *m, const char *dir,
				 size_t len, const uint32_t **moves)
{
	return us_shared_dirgen(m, path_hash(dir, len), moves);
}

void us_lcache_prefix_init(struct us_lc_prefix *p)
{
	p->h = HASH_SEED;
	p->done = 0;
}

uint64_t us_lcache_path_hash(struct us_lc_prefix *p, const char *path,
			     size_t len)
{
	size_t whole = len & ~(size_t)7;

	if (whole > p->done) {
		p->h = hash_words(p->h, path, p->done, whole);
		p->done = whole;
	}
	return hash_end(p->h, path, len);
}

const uint32_t *us_lcache_dirgen_prefix(const struct us_mount *m,
					struct us_lc_prefix *p, const char *path,
					size_t len, const uint32_t **moves)
{
	size_t whole = len & ~(size_t)7;

	if (whole > p->done) {
		p->h = hash_words(p->h, path, p->done, whole);
		p->done = whole;
	}
	return us_shared_dirgen(m, hash_end(p->h, path, len), moves);
}

void us_lcache_forget(void)
{
	__atomic_add_fetch(&epoch, 1, __ATOMIC_ACQ_REL);
}

/* An entry claimed by a writer that stayed in the parent: free again. */
static void unclaim(void *p)
{
	struct entry *e = p;
	uint32_t s = LOAD(&e->seq);

	if (s & 1) {
		STORE(&e->m, 0);
		__atomic_store_n(&e->seq, s + 1, __ATOMIC_RELEASE);
	}
}

void us_lcache_after_fork(void)
{
	if (!LOAD(&writers))
		return;
	us_gt_each(&table, unclaim);
	STORE(&writers, 0);
}

void us_lcache_stats(struct us_lcache_stats *s)
{
	s->hits = LOAD(&n_hits);
	s->misses = LOAD(&n_misses);
	s->stores = LOAD(&n_stores);
	s->seeds = LOAD(&n_seeds);
	s->seeded = LOAD(&n_seeded);
	uint32_t sets;
	s->entries = us_gt_now(&table, &sets) ? (uint64_t)sets * WAYS : 0;
}

unsigned us_lcache_set_of(const struct us_mount *m, const char *upath,
			  us_layermask dirs, const char *name, unsigned sets)
{
	struct us_lc_miss k;
	struct us_node dir = {.dirs = dirs};

	if (!key_of(m, upath, NULL, &dir, name, &k))
		return 0;
	return k.set & (sets - 1);
}
