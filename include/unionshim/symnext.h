/* symnext.h: find the definitions dlsym(RTLD_NEXT, name) would give code
 * in one object, many names at a time, by reading the ELF symbol tables of
 * the objects loaded after it (their GNU hash tables) directly.
 *
 * dlsym costs about a thousand instructions a name (the loader's lock,
 * finding the caller's object, walking the scope); the preload library
 * resolves ~150 names in every process it starts in, union or not. Here a
 * name costs its hash and a bloom-filter test per object. Whenever the
 * answer is not certain (an object without a GNU hash table, an IFUNC or
 * unique symbol, too many objects) the caller is told to ask dlsym. */
#ifndef UNIONSHIM_SYMNEXT_H
#define UNIONSHIM_SYMNEXT_H

#include <stdbool.h>
#include <stdint.h>

#define US_SYMNEXT_MAX 48 /* objects searched; more: ask dlsym */

struct us_symobj {
	uintptr_t bias;
	const uint32_t *gnuhash;
	const void *symtab; /* ElfW(Sym) */
	const char *strtab;
	const uint16_t *versym; /* or NULL */
};

struct us_symnext {
	int n;
	bool partial; /* an object could not be read: no answer is sure */
	struct us_symobj obj[US_SYMNEXT_MAX];
};

/* Prepare S for the objects loaded after the one that holds ADDR. false
 * when that object is not found (then every lookup answers "ask"). */
bool us_symnext_init(struct us_symnext *s, const void *addr);

/* The address of NAME's default definition in the first object of S that
 * has one, NULL when none has it; *ASK set when dlsym must decide. */
void *us_symnext_find(const struct us_symnext *s, const char *name,
		      bool *ask);

#endif
