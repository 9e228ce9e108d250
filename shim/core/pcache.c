/* pcache.c: the whole-path cache in front of us_resolve (see pcache.h).
 *
 * A table of 4-way sets, mapped once, read and written as lcache.c's:
 * every field with atomic loads and stores, a sequence word per entry
 * (odd while written; a reader that sees it odd or changed has a miss),
 * a writer claims an entry by compare-and-swap and never waits. The key
 * is exact: the path's bytes, its length and the resolver flags. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "sys.h"
#include "unionshim/lcache.h"
#include "unionshim/path.h"
#include "unionshim/pcache.h"

#define WAYS 4
#define SETS (US_PCACHE_ENTRIES / WAYS)
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
_Static_assert(sizeof(struct entry) == 512, "eight cache lines an entry");
_Static_assert(US_PCACHE_KEY % 8 == 0, "whole words of key");

static struct entry *table;
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

static inline uint64_t mix(uint64_t h, uint64_t w)
{
	h = (h ^ w) * UINT64_C(0xbf58476d1ce4e5b9);
	return h ^ (h >> 31);
}

/* Word I of the path S of N bytes, zero past its end. */
static inline uint64_t word(const char *s, size_t n, size_t i)
{
	uint64_t w = 0;

	if (n - i * 8 >= 8) {
		memcpy(&w, s + i * 8, 8);
		return w;
	}
	for (size_t j = n - i * 8; j-- > 0;) /* the tail, no memcpy call */
		w = w << 8 | (unsigned char)s[i * 8 + j];
	return w;
}

static uint64_t key_hash(const char *s, size_t n, unsigned flags)
{
	uint64_t h = UINT64_C(0x9e3779b97f4a7c15) ^ n ^ (uint64_t)flags << 32;

	for (size_t i = 0; i * 8 < n; i++)
		h = mix(h, word(s, n, i));
	return h ^ (h >> 29);
}

static struct entry *table_get(void)
{
	struct entry *t = LOAD(&table);

	if (t)
		return t;
	int saved = errno;
	void *p = SYS(mmap)(NULL, sizeof(struct entry) * US_PCACHE_ENTRIES,
			    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			    -1, 0);
	errno = saved;
	if (p == MAP_FAILED)
		return NULL;
	struct entry *none = NULL;
	if (!__atomic_compare_exchange_n(&table, &none, (struct entry *)p, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		munmap(p, sizeof(struct entry) * US_PCACHE_ENTRIES);
		return none;
	}
	return p;
}

static void node_unpack(const uint64_t *w, struct us_node *n)
{
	n->layer = (int)(uint32_t)w[0];
	n->mode = (mode_t)(w[0] >> 32);
	n->dirs = w[1];
	n->dev = (dev_t)w[2];
	n->ino = w[3];
	n->nlink = w[4];
}

static void node_store(uint64_t *w, const struct us_node *n)
{
	STORE(&w[0], (uint32_t)n->layer | (uint64_t)n->mode << 32);
	STORE(&w[1], n->dirs);
	STORE(&w[2], (uint64_t)n->dev);
	STORE(&w[3], n->ino);
	STORE(&w[4], n->nlink);
}

/* What a hit copies out of an entry, unchanged while read. */
struct copy {
	uint64_t info, m, moves, gens;
	uint64_t node[NODE_WORDS], parent[NODE_WORDS];
	uint64_t dep[US_PCACHE_DEPS], val[US_PCACHE_DEPS / 2];
};

static bool read_entry(const struct entry *e, uint64_t hash, uint64_t lenflags,
		       const char *path, struct copy *c)
{
	uint32_t s = LOAD(&e->seq);

	if ((s & 1) || LOAD(&e->hash) != hash)
		return false;
	c->info = LOAD(&e->info);
	if ((c->info & 0xffffff) != lenflags)
		return false;
	size_t n = lenflags & 0xffff;
	for (size_t i = 0; i * 8 < n; i++)
		if (LOAD(&e->key[i]) != word(path, n, i))
			return false;
	unsigned nd = (c->info >> 24) & 0xff;
	c->m = LOAD(&e->m);
	c->moves = LOAD(&e->moves);
	c->gens = LOAD(&e->gens);
	for (int i = 0; i < NODE_WORDS; i++) {
		c->node[i] = LOAD(&e->node[i]);
		c->parent[i] = LOAD(&e->parent[i]);
	}
	for (unsigned i = 0; i < nd; i++)
		c->dep[i] = LOAD(&e->dep[i]);
	for (unsigned i = 0; i < (nd + 1) / 2; i++)
		c->val[i] = LOAD(&e->val[i]);
	return LOAD(&e->seq) == s;
}

/* Are the words C depends on what they were when it was stored? */
static bool still_valid(const struct copy *c)
{
	uint64_t g = us_lcache_epoch();

	if (c->moves)
		g |= (uint64_t)LOAD((const uint32_t *)(uintptr_t)c->moves) << 32;
	if (g != c->gens)
		return false;
	unsigned nd = (c->info >> 24) & 0xff;
	for (unsigned i = 0; i < nd; i++) {
		uint32_t v = (uint32_t)(c->val[i / 2] >> (i % 2 * 32));
		if (LOAD((const uint32_t *)(uintptr_t)c->dep[i]) != v)
			return false;
	}
	return true;
}

static void fill(const struct copy *c, const char *path, size_t n,
		 struct us_resolved *r)
{
	r->where = US_INSIDE;
	r->m = (const struct us_mount *)(uintptr_t)c->m;
	memcpy(r->path, path, n + 1);
	r->err = (int)((c->info >> 32) & 0xff);
	r->parent_ok = (int)((c->info >> 40) & 1);
	node_unpack(c->node, &r->node);
	node_unpack(c->parent, &r->parent);
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
			const uint32_t *d = us_lcache_dirgen(m, path, at, &moves);
			if (!d)
				return false;
			k->dep[k->ndeps] = d;
			k->val[k->ndeps++] = LOAD(d);
		}
		at += nl + 1;
	}
	if (m->work && !moves && !us_lcache_dirgen(m, path, at, &moves))
		return false;
	k->moves = moves;
	k->gmoves = moves ? LOAD(moves) : 0;
	return true;
}

int us_pcache_get(const struct us_config *cfg, const char *abspath,
		  unsigned flags, struct us_resolved *r, struct us_pc_miss *miss)
{
	size_t n = strlen(abspath);
	struct entry *t = LOAD(&table);

	miss->storable = false;
	if (LOAD(&off) || n > US_PCACHE_KEY || flags > 0xff)
		return 0;
	miss->hash = key_hash(abspath, n, flags);
	miss->set = (unsigned)(miss->hash >> 40) % SETS;
	miss->len = n;
	miss->flags = flags;
	if (t) {
		struct entry *set = &t[miss->set * WAYS];
		struct copy c;
		for (int i = 0; i < WAYS; i++) {
			if (!read_entry(&set[i], miss->hash, n | flags << 16,
					abspath, &c) ||
			    !still_valid(&c))
				continue;
			fill(&c, abspath, n, r);
			count(&n_hits);
			return 1;
		}
	}
	count(&n_misses);
	/* the epoch first: a forget during the reads makes the entry stale */
	miss->epoch = us_lcache_epoch();
	miss->m = mount_entered(cfg, abspath);
	miss->storable = miss->m && deps_now(miss->m, abspath, n, miss);
	return 0;
}

/* The way of SET to write: the key's own, else a free one, else the
 * oldest. Returned claimed (its sequence word odd), or NULL. */
static struct entry *claim(struct entry *set, const struct us_pc_miss *k)
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
	node_store(e->node, r->err ? &none : &r->node);
	node_store(e->parent, r->err || r->parent_ok ? &r->parent : &none);
	for (unsigned i = 0; i < k->ndeps; i++)
		STORE(&e->dep[i], (uint64_t)(uintptr_t)k->dep[i]);
	for (unsigned i = 0; i < k->ndeps; i += 2)
		STORE(&e->val[i / 2], k->val[i] | (i + 1 < k->ndeps
						   ? (uint64_t)k->val[i + 1] << 32
						   : 0));
	for (size_t i = 0; i * 8 < n; i++)
		STORE(&e->key[i], word(path, n, i));
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
	struct entry *t = table_get();
	if (!t)
		return;
	__atomic_add_fetch(&writers, 1, __ATOMIC_RELAXED);
	struct entry *e = claim(&t[miss->set * WAYS], miss);
	if (e) {
		store(e, miss, abspath, r);
		__atomic_add_fetch(&e->seq, 1, __ATOMIC_RELEASE);
		count(&n_stores);
	}
	__atomic_sub_fetch(&writers, 1, __ATOMIC_RELAXED);
}

void us_pcache_after_fork(void)
{
	struct entry *t = LOAD(&table);

	if (!t || !LOAD(&writers))
		return;
	for (int i = 0; i < US_PCACHE_ENTRIES; i++) {
		uint32_t s = LOAD(&t[i].seq);
		if (s & 1) { /* its writer stayed in the parent */
			STORE(&t[i].m, 0);
			STORE(&t[i].hash, 0);
			__atomic_store_n(&t[i].seq, s + 1, __ATOMIC_RELEASE);
		}
	}
	STORE(&writers, 0);
}

int us_pcache_hold(const char *abspath, unsigned flags, bool on)
{
	struct entry *t = LOAD(&table);
	size_t n = strlen(abspath);

	if (!t || n > US_PCACHE_KEY)
		return 0;
	uint64_t h = key_hash(abspath, n, flags);
	struct entry *set = &t[(unsigned)(h >> 40) % SETS * WAYS];
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
}
