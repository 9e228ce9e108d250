/* symnext.c: RTLD_NEXT lookups read straight from the loaded objects'
 * GNU hash tables (see symnext.h).
 *
 * The rules are the loader's for a lookup without a version: the first
 * object in load order after the caller's that defines the name wins; a
 * definition is a symbol with a section and a value, bound global or
 * weak; of versioned symbols only the default version (not hidden)
 * counts. What the loader would do more (run an IFUNC resolver, unique
 * symbols) is left to dlsym. Runs once, in the constructor: no locks, no
 * allocation. */
#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <string.h>

#include "unionshim/symnext.h"

/* A dynamic-section address: the loader relocates most in place, not
 * those of a read-only dynamic section (the vDSO's). */
static uintptr_t dyn_addr(const struct link_map *l, ElfW(Addr) p)
{
	return p < l->l_addr ? l->l_addr + p : p;
}

static bool read_object(const struct link_map *l, struct us_symobj *o)
{
	memset(o, 0, sizeof *o);
	o->bias = l->l_addr;
	for (const ElfW(Dyn) *d = l->l_ld; d && d->d_tag != DT_NULL; d++) {
		uintptr_t p = dyn_addr(l, d->d_un.d_ptr);
		switch (d->d_tag) {
		case DT_GNU_HASH:
			o->gnuhash = (const uint32_t *)p;
			break;
		case DT_SYMTAB:
			o->symtab = (const void *)p;
			break;
		case DT_STRTAB:
			o->strtab = (const char *)p;
			break;
		case DT_VERSYM:
			o->versym = (const uint16_t *)p;
			break;
		}
	}
	return o->gnuhash && o->symtab && o->strtab;
}

bool us_symnext_init(struct us_symnext *s, const void *addr)
{
	struct link_map *self = NULL;

	s->n = 0;
	s->partial = true;
#if __GLIBC_PREREQ(2, 35)
	struct dl_find_object found; /* no symbol search, unlike dladdr */
	if (_dl_find_object((void *)addr, &found) == 0)
		self = found.dlfo_link_map;
#else
	Dl_info info;
	if (!dladdr1(addr, &info, (void **)&self, RTLD_DL_LINKMAP))
		self = NULL;
#endif
	if (!self)
		return false;
	s->partial = false;
	for (const struct link_map *l = self->l_next; l; l = l->l_next) {
		if (s->n == US_SYMNEXT_MAX || !read_object(l, &s->obj[s->n])) {
			s->partial = true;
			break;
		}
		s->n++;
	}
	return true;
}

static uint32_t gnu_hash(const char *name)
{
	uint32_t h = 5381;

	for (const unsigned char *c = (const unsigned char *)name; *c; c++)
		h = h * 33 + *c;
	return h;
}

/* NAME's symbol in O: 1 found (*AT), 0 none, -1 ask dlsym. */
static int find_in(const struct us_symobj *o, const char *name, uint32_t h,
		   void **at)
{
	const uint32_t nbuckets = o->gnuhash[0], symoffset = o->gnuhash[1];
	const uint32_t bloom_size = o->gnuhash[2], shift = o->gnuhash[3];
	const ElfW(Addr) *bloom = (const ElfW(Addr) *)(o->gnuhash + 4);
	const uint32_t *buckets = (const uint32_t *)(bloom + bloom_size);
	const uint32_t *chain = buckets + nbuckets;
	const unsigned bits = sizeof(ElfW(Addr)) * 8;

	if (nbuckets == 0 || bloom_size == 0)
		return 0;
	ElfW(Addr) word = bloom[(h / bits) % bloom_size];
	ElfW(Addr) mask = ((ElfW(Addr))1 << (h % bits)) |
			  ((ElfW(Addr))1 << ((h >> shift) % bits));
	if ((word & mask) != mask)
		return 0;
	uint32_t i = buckets[h % nbuckets];
	if (i < symoffset)
		return 0;
	for (;; i++) {
		uint32_t ch = chain[i - symoffset];
		const ElfW(Sym) *sym = (const ElfW(Sym) *)o->symtab + i;
		if ((ch | 1) == (h | 1) &&
		    strcmp(o->strtab + sym->st_name, name) == 0 &&
		    sym->st_shndx != SHN_UNDEF && sym->st_value != 0 &&
		    !(o->versym && (o->versym[i] & 0x7fff) >= 2 &&
		      (o->versym[i] & 0x8000))) {
			int type = ELF64_ST_TYPE(sym->st_info);
			int bind = ELF64_ST_BIND(sym->st_info);
			if ((type != STT_FUNC && type != STT_OBJECT &&
			     type != STT_NOTYPE) ||
			    (bind != STB_GLOBAL && bind != STB_WEAK))
				return -1;
			*at = (void *)(o->bias + sym->st_value);
			return 1;
		}
		if (ch & 1)
			return 0;
	}
}

void *us_symnext_find(const struct us_symnext *s, const char *name,
		      bool *ask)
{
	uint32_t h = gnu_hash(name);
	void *at = NULL;

	*ask = false;
	for (int k = 0; k < s->n; k++) {
		switch (find_in(&s->obj[k], name, h, &at)) {
		case 1:
			return at;
		case -1:
			*ask = true;
			return NULL;
		}
	}
	*ask = s->partial;
	return NULL;
}
