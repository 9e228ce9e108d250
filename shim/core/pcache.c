/* pcache.c: the whole-path cache in front of us_resolve (see pcache.h).
 *
 * A table of 4-way sets, small first and bigger as the process needs
 * (growtable.h), read and written as lcache.c's:
 * every field with atomic loads and stores, a sequence word per entry
 * (odd while written; a reader that sees it odd or changed has a miss),
 * a writer claims an entry by compare-and-swap and never waits. The key
 * is exact: the path's bytes, its length and the resolver flags. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "growtable.h"
#include "hashmix.h"
#include "unionshim/lcache.h"
#include "unionshim/path.h"
#include "unionshim/pcache.h"
#include "unionshim/shared.h"

#define WAYS US_GT_WAYS
#define KEY_WORDS (US_PCACHE_KEY / 8)
#define NODE_WORDS 5

struct entry {
	uint32_t seq;   /* odd while being written */
	uint32_t stamp; /* when stored: the oldest way goes first */
	uint64_t hash;
	uint64_t info;  /* length | flags << 16 | ndeps << 24 | err << 32 |
			   parent_ok << 40 */
	uint64_t m;
	uint64_t moves; /* the mount's moves word (its address), or 0 */
	uint64_t gens;  /* lcache's epoch | the moves word << 32 */
	uint64_t node[NODE_WORDS], parent[NODE_WORDS];
	uint64_t dep[US_PCACHE_DEPS]; /* the dirs' generation words */
	uint64_t val[US_PCACHE_DEPS / 2];
	uint64_t key[KEY_WORDS];
};
_Static_assert(offsetof(struct entry, stamp) == 4, "growtable.h: seq, then stamp");
_Static_assert(sizeof(struct entry) == 512, "eight cache lines an entry");
_Static_assert(US_PCACHE_KEY % 8 == 0, "whole words of key");
_Static_assert(offsetof(struct entry, hash) == 8, "words after seq and stamp");

static void move(const void *from, size_t n, void *to, uint32_t sets);
static struct us_growtable table =
	US_GROWTABLE(struct entry, US_PCACHE_ENTRIES, move);
static uint32_t clock_;
static uint32_t writers; /* entries being written now (after_fork) */
static bool off;
static uint64_t n_hits, n_misses, n_stores;

#define LOAD(p) __atomic_load_n(p, __ATOMIC_ACQUIRE)
#define STORE(p, v) __atomic_store_n(p, v, __ATOMIC_RELEASE)

static inline void count(uint64_t *c)
{
	STORE(c, LOAD(c) + 1);
}

/* The set bits of a key's hash (masked by a table's sets). */
static inline unsigned set_bits(uint64_t hash)
{
	return (unsigned)(hash >> 40);
}

/* growtable.h's move: the entries of table FROM (N) into TO (SETS sets),
 * which no other thread sees yet. */
static void move(const void *from, size_t n, void *to, uint32_t sets)
{
	const struct entry *src = from;
	struct entry *dst = to;
	/* every field after seq and stamp is a word */
	size_t nw = (sizeof(struct entry) - offsetof(struct entry, hash)) / 8;

	for (size_t i = 0; i < n; i++) {
		const struct entry *e = &src[i];
		uint32_t s = LOAD(&e->seq);
		struct entry c = {.seq = 0};
		if (s & 1)
			continue;
		c.stamp = LOAD(&e->stamp);
		const uint64_t *from_w = &e->hash;
		uint64_t *to_w = &c.hash;
		for (size_t k = 0; k < nw; k++)
			to_w[k] = LOAD(&from_w[k]);
		if (!c.m || LOAD(&e->seq) != s)
			continue;
		struct entry *way = us_gt_place(&table, dst, sets,
						set_bits(c.hash), c.stamp);
		if (way)
			*way = c;
	}
}

static void node_store(uint64_t *w, const struct us_node *n)
{
	STORE(&w[0], (uint32_t)n->layer | (uint64_t)(n->flags & 0xff) << 16 |
			     (uint64_t)n->mode << 32);
	STORE(&w[1], n->dirs);
	STORE(&w[2], (uint64_t)n->dev);
	STORE(&w[3], n->ino);
	STORE(&w[4], n->nlink);
}

/* The key's words: PATH's N bytes, zero-padded to a whole word. */
struct key {
	size_t n, words;
	uint64_t w[KEY_WORDS];
};

static void key_make(struct key *k, const char *path, size_t n)
{
	k->n = n;
	k->words = (n + 7) / 8;
	if (n)
		k->w[k->words - 1] = 0;
	memcpy(k->w, path, n);
}

static uint64_t key_hash(const struct key *k, unsigned flags)
{
	uint64_t h = UINT64_C(0x9e3779b97f4a7c15) ^ k->n ^ (uint64_t)flags << 32;

	for (size_t i = 0; i < k->words; i++)
		h = us_mix(h, k->w[i]);
	return us_mix_end(h);
}

/* Are the words entry E depends on what they were when it was stored? */
static bool still_valid(const struct entry *e, uint64_t info)
{
	uint64_t g = us_lcache_epoch();
	const uint32_t *moves = (const uint32_t *)(uintptr_t)LOAD(&e->moves);

	if (moves)
		g |= (uint64_t)LOAD(moves) << 32;
	if (g != LOAD(&e->gens))
		return false;
	/* a word's address read from the entry may be 0: a table given back
	 * under this reader (growtable.h) reads as zeros from any moment on,
	 * after INFO was read */
	unsigned nd = (info >> 24) & 0xff;
	for (unsigned i = 0; i < nd; i += 2) {
		uint64_t v = LOAD(&e->val[i / 2]);
		const uint32_t *d = (const uint32_t *)(uintptr_t)LOAD(&e->dep[i]);
		if (!d || LOAD(d) != (uint32_t)v)
			return false;
		if (i + 1 == nd)
			break;
		d = (const uint32_t *)(uintptr_t)LOAD(&e->dep[i + 1]);
		if (!d || LOAD(d) != (uint32_t)(v >> 32))
			return false;
	}
	return true;
}

static void node_load(const uint64_t *w, struct us_node *n)
{
	uint64_t w0 = LOAD(&w[0]);

	n->layer = (int)(uint16_t)w0;
	n->flags = (unsigned)(w0 >> 16) & 0xff;
	n->mode = (mode_t)(w0 >> 32);
	n->dirs = LOAD(&w[1]);
	n->dev = (dev_t)LOAD(&w[2]);
	n->ino = LOAD(&w[3]);
	n->nlink = LOAD(&w[4]);
}

/* R from entry E when it holds key K with FLAGS, is still valid, and was
 * not written meanwhile (else R is left for the walk to fill). */
static bool read_entry(const struct entry *e, uint64_t hash, unsigned flags,
		       const struct key *k, const char *path,
		       struct us_resolved *r)
{
	uint32_t s = LOAD(&e->seq);

	if ((s & 1) || LOAD(&e->hash) != hash)
		return false;
	uint64_t info = LOAD(&e->info);
	if ((info & 0xffffff) != (k->n | flags << 16))
		return false;
	for (size_t i = 0; i < k->words; i++)
		if (LOAD(&e->key[i]) != k->w[i])
			return false;
	if (!still_valid(e, info))
		return false;
	r->where = US_INSIDE;
	r->m = (const struct us_mount *)(uintptr_t)LOAD(&e->m);
	memcpy(r->path, path, k->n + 1);
	r->err = (int)((info >> 32) & 0xff);
	r->parent_ok = (int)((info >> 40) & 1);
	node_load(e->node, &r->node);
	node_load(e->parent, &r->parent);
	return LOAD(&e->seq) == s;
}

/* The mount a walk of PATH enters: the first target met, the shortest. */
static const struct us_mount *mount_entered(const struct us_config *cfg,
					    const char *path)
{
	const struct us_mount *best = NULL;

	for (int k = 0; k < cfg->nmounts; k++) {
		const struct us_mount *m = &cfg->mounts[k];
		if ((!best || m->target_len < best->target_len) &&
		    us_path_under(path, m->target, m->target_len))
			best = m;
	}
	return best;
}

/* The words a walk of PATH (N bytes) depends on, read now: every dir
 * from M's target to the last name's parent. False when PATH is not in
 * normal form below the target, too deep, or the words are not there. */
static bool deps_now(const struct us_mount *m, const char *path, size_t n,
		     struct us_pc_miss *k)
{
	const uint32_t *moves = NULL;
	size_t at = m->target_len;
	struct us_lc_prefix hp;

	us_lcache_prefix_init(&hp);
	k->ndeps = 0;
	while (at < n) { /* PATH[AT] is the '/' before a name */
		const char *name = path + at + 1;
		const char *e = memchr(name, '/', n - at - 1);
		size_t nl = e ? (size_t)(e - name) : n - at - 1;
		if (nl == 0 || (name[0] == '.' && (nl == 1 ||
						   (nl == 2 && name[1] == '.'))))
			return false;
		if (m->work) {
			if (k->ndeps == US_PCACHE_DEPS)
				return false;
			const uint32_t *d =
				us_lcache_dirgen_prefix(m, &hp, path, at, &moves);
			if (!d)
				return false;
			uint32_t g = LOAD(d);
			if (g & US_DIRGEN_BUSY)
				return false; /* a change under way */
			k->dep[k->ndeps] = d;
			k->val[k->ndeps++] = g;
		}
		at += nl + 1;
	}
	if (m->work && !moves && !us_lcache_dirgen(m, path, at, &moves))
		return false;
	k->moves = moves;
	k->gmoves = moves ? LOAD(moves) : 0;
	return !(k->gmoves & US_DIRGEN_BUSY);
}

int us_pcache_get(const struct us_config *cfg, const char *abspath,
		  unsigned flags, struct us_resolved *r, struct us_pc_miss *miss,
		  struct us_pc_ref *ref)
{
	size_t n = strlen(abspath);
	uint32_t sets;
	struct entry *t = us_gt_now(&table, &sets);
	struct key k;

	miss->storable = false;
	if (LOAD(&off) || n > US_PCACHE_KEY || (flags & US_LOOKUP_ONCE) ||
	    flags > 0xff)
		return 0;
	key_make(&k, abspath, n);
	miss->hash = key_hash(&k, flags);
	miss->set = set_bits(miss->hash);
	miss->len = n;
	miss->flags = flags;
	if (t) {
		struct entry *set = us_gt_set(&table, t, sets, miss->set);
		for (int i = 0; i < WAYS; i++) {
			/* an entry made with another config is no answer */
			uint32_t seq = LOAD(&set[i].seq);
			if (read_entry(&set[i], miss->hash, flags, &k, abspath, r) &&
			    r->m >= cfg->mounts && r->m < cfg->mounts + cfg->nmounts) {
				count(&n_hits);
				us_gt_keep(&set[i].stamp, LOAD(&clock_), sets);
				if (ref)
					*ref = (struct us_pc_ref){&set[i], seq};
				return 1;
			}
		}
	}
	count(&n_misses);
	/* the epoch first: a forget during the reads makes the entry stale */
	miss->epoch = us_lcache_epoch();
	miss->m = mount_entered(cfg, abspath);
	miss->storable = miss->m && deps_now(miss->m, abspath, n, miss);
	return 0;
}

bool us_pcache_still(const struct us_pc_ref *ref)
{
	const struct entry *e = ref->entry;

	return e && !LOAD(&off) && LOAD(&e->seq) == ref->seq &&
	       still_valid(e, LOAD(&e->info)) && LOAD(&e->seq) == ref->seq;
}

/* The way of SET to write: the key's own, else a free one (*ANEW), else
 * the oldest (*OUT: an entry of another key goes, its hash in *GONE).
 * Returned claimed (its sequence word odd), or NULL. */
static struct entry *claim(struct entry *set, const struct us_pc_miss *k,
			   bool *out, bool *anew, uint64_t *gone)
{
	struct entry *best = NULL;
	int rank = 3; /* 0 same key, 1 free, 2 oldest */
	uint32_t oldest = 0, now = LOAD(&clock_);

	for (int i = 0; i < WAYS; i++) {
		struct entry *e = &set[i];
		uint32_t s = LOAD(&e->seq);
		int r = 2;
		if (s & 1)
			continue;
		if (LOAD(&e->hash) == k->hash &&
		    (LOAD(&e->info) & 0xffffff) == (k->len | k->flags << 16))
			r = 0;
		else if (!LOAD(&e->m))
			r = 1;
		uint32_t age = now - LOAD(&e->stamp);
		if (r < rank || (r == 2 && rank == 2 && age > oldest)) {
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
	*out = rank == 2;
	if (*out)
		*gone = LOAD(&best->hash);
	*anew = rank != 0;
	return best;
}

static void store(struct entry *e, const struct us_pc_miss *k,
		  const char *path, const struct us_resolved *r)
{
	static const struct us_node none;
	size_t n = k->len;

	STORE(&e->hash, k->hash);
	STORE(&e->info, n | (uint64_t)k->flags << 16 |
				(uint64_t)k->ndeps << 24 |
				(uint64_t)(r->err & 0xff) << 32 |
				(uint64_t)(r->parent_ok != 0) << 40);
	STORE(&e->m, (uint64_t)(uintptr_t)k->m);
	STORE(&e->moves, (uint64_t)(uintptr_t)k->moves);
	STORE(&e->gens, k->epoch | (uint64_t)k->gmoves << 32);
	node_store(e->node, &r->node); /* ENOENT: its flags alone */
	node_store(e->parent, r->err || r->parent_ok ? &r->parent : &none);
	for (unsigned i = 0; i < k->ndeps; i++)
		STORE(&e->dep[i], (uint64_t)(uintptr_t)k->dep[i]);
	for (unsigned i = 0; i < k->ndeps; i += 2)
		STORE(&e->val[i / 2], k->val[i] | (i + 1 < k->ndeps
						   ? (uint64_t)k->val[i + 1] << 32
						   : 0));
	struct key key;
	key_make(&key, path, n);
	for (size_t i = 0; i < key.words; i++)
		STORE(&e->key[i], key.w[i]);
	STORE(&e->stamp, __atomic_add_fetch(&clock_, 1, __ATOMIC_RELAXED));
}

void us_pcache_put(const struct us_pc_miss *miss, const char *abspath,
		   int links, const struct us_resolved *r)
{
	/* R->path is ABSPATH again only for a path in normal form */
	if (!miss->storable || links || r->where != US_INSIDE ||
	    r->m != miss->m || (r->err != 0 && r->err != ENOENT) ||
	    memcmp(r->path, abspath, miss->len + 1) != 0)
		return;
	uint32_t sets;
	struct entry *t = us_gt_get(&table, &sets);
	if (!t)
		return;
	bool out = false, anew = false;
	uint64_t gone = 0;
	__atomic_add_fetch(&writers, 1, __ATOMIC_RELAXED);
	struct entry *e = claim(us_gt_set(&table, t, sets, miss->set), miss,
				&out, &anew, &gone);
	if (e) {
		store(e, miss, abspath, r);
		__atomic_add_fetch(&e->seq, 1, __ATOMIC_RELEASE);
		count(&n_stores);
	}
	__atomic_sub_fetch(&writers, 1, __ATOMIC_RELAXED);
	if (out)
		us_gt_pushed_out(&table, t, gone);
	if (e && anew)
		us_gt_stored_anew(&table, t, sets, miss->hash);
}

/* An entry claimed by a writer that stayed in the parent: free again. */
static void unclaim(void *p)
{
	struct entry *e = p;
	uint32_t s = LOAD(&e->seq);

	if (s & 1) {
		STORE(&e->m, 0);
		STORE(&e->hash, 0);
		__atomic_store_n(&e->seq, s + 1, __ATOMIC_RELEASE);
	}
}

void us_pcache_after_fork(void)
{
	if (!LOAD(&writers))
		return;
	us_gt_each(&table, unclaim);
	STORE(&writers, 0);
}

int us_pcache_hold(const char *abspath, unsigned flags, bool on)
{
	uint32_t sets;
	struct entry *t = us_gt_now(&table, &sets);
	size_t n = strlen(abspath);

	if (!t || n > US_PCACHE_KEY)
		return 0;
	struct key k;
	key_make(&k, abspath, n);
	uint64_t h = key_hash(&k, flags);
	struct entry *set = us_gt_set(&table, t, sets, set_bits(h));
	for (int i = 0; i < WAYS; i++) {
		uint32_t s = LOAD(&set[i].seq);
		if (LOAD(&set[i].hash) != h || (s & 1) == on)
			continue;
		__atomic_add_fetch(&writers, on ? 1 : -1, __ATOMIC_RELAXED);
		STORE(&set[i].seq, s + 1);
		return 1;
	}
	return 0;
}

void us_pcache_enable(bool on)
{
	STORE(&off, !on);
}

void us_pcache_stats(struct us_pcache_stats *s)
{
	s->hits = LOAD(&n_hits);
	s->misses = LOAD(&n_misses);
	s->stores = LOAD(&n_stores);
	uint32_t sets;
	s->entries = us_gt_now(&table, &sets) ? (uint64_t)sets * WAYS : 0;
}

unsigned us_pcache_set_of(const char *abspath, unsigned flags, unsigned sets)
{
	struct key k;
	size_t n = strlen(abspath);

	if (n > US_PCACHE_KEY)
		return 0;
	key_make(&k, abspath, n);
	return set_bits(key_hash(&k, flags)) & (sets - 1);
}
