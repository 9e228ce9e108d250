/* audit.c: the dynamic loader's searches and opens go through the union
 * (glibc's LD_AUDIT interface, rtld-audit(7)).
 *
 * ld.so opens DT_NEEDED libraries, LD_LIBRARY_PATH and RPATH/RUNPATH
 * entries and dlopen paths itself, past every preloaded wrapper. It loads
 * this library first, into a link namespace of its own with its own libc,
 * and asks la_objsearch about each name before opening it. The preload
 * library cannot help: it lives in the other namespace and is not even
 * relocated when the program's DT_NEEDED entries are searched. So this
 * library reads UNIONSHIM_MOUNTS itself and resolves with the core (the
 * union's rules, no LD_PRELOAD knowledge); ldsearch.c does the work.
 *
 * Without a union configured la_version answers 0 and ld.so unloads us:
 * no callback ever runs. ld.so holds its load lock around every callback,
 * so the callbacks never run concurrently. */
#include <link.h>
#include <stdlib.h>

#include "ldsearch.h"

#define US_AUDIT_EXPORT __attribute__((visibility("default")))

US_AUDIT_EXPORT unsigned int la_version(unsigned int version);
US_AUDIT_EXPORT unsigned int la_objopen(struct link_map *map, Lmid_t lmid,
					uintptr_t *cookie);
US_AUDIT_EXPORT char *la_objsearch(const char *name, uintptr_t *cookie,
				   unsigned int flag);

unsigned int la_version(unsigned int version)
{
	const char *spec = getenv(US_ENV_MOUNTS);

	if (!spec || !*spec || version < 1)
		return 0;
	return version < LAV_CURRENT ? version : LAV_CURRENT;
}

/* The cookie ld.so hands la_objsearch is the loader's: make it name the
 * loader's link_map (search paths come from it). */
unsigned int la_objopen(struct link_map *map, Lmid_t lmid, uintptr_t *cookie)
{
	(void)lmid;
	*cookie = (uintptr_t)map;
	us_ld_object(map);
	return 0;
}

char *la_objsearch(const char *name, uintptr_t *cookie, unsigned int flag)
{
	const struct us_config *cfg = us_ld_config();

	if (!cfg || !name || !*name)
		return (char *)name;
	if (flag == LA_SER_ORIG)
		return us_ld_orig(cfg, name, (struct link_map *)*cookie);
	return us_ld_candidate(cfg, name);
}
