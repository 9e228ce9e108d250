/* checkwork.c: the work dir half of unionctl check (see check.c). What
 * the shim keeps there, and when it is garbage:
 *   #us.PID.*          a copy-up's (or whiteout's) temp: the shim cleans
 *                      those of dead processes when a process starts; with
 *                      no union process running, every one is a leftover
 *   #index/L-INO       a lower hard link's copy: unused once no upper name
 *                      links it (link count 1) and every lower name of it
 *                      is gone (the count in L-INO.gone reached the
 *                      inode's link count recorded with its origin)
 *   #index/L-INO.gone.PID  a count in the making of a dead process
 *   #origin/INO        the origin of a symlink or special file: unused once
 *                      no object with that number and birth time is left
 *   #locks/HEX         a lock proxy, named by union inode number: unused
 *                      once no layer has the object (read from the upper's
 *                      numbers and origins, and the lowers given)
 *   #commit            the journal of a commit (unionctl commit): one that
 *                      is there was interrupted; commit run again finishes
 *                      it, so check only reports it
 *   #state, #lock.NN   kept: every process maps the one, locks the others;
 *                      a word of #state a process killed between the two
 *                      halves of a change's announcement left "under
 *                      way" keeps every cache off that dir (or, the moves
 *                      word, off the whole mount): --repair closes it */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "progress.h"
#include "upperwalk.h"
#include "unionshim/identity.h"
#include "unionshim/shared.h"

#define LAYER_SHIFT 56

/* The names in real dir DIR (NULL-ended), or NULL. */
static char **names_of(const char *dir)
{
	char **v;

	return uc_read_names(dir, &v) < 0 ? NULL : v;
}

static char *join(const char *a, const char *b)
{
	char *p = malloc(strlen(a) + strlen(b) + 2);

	if (p)
		sprintf(p, "%s/%s", a, b);
	return p;
}

/* The count of lower names gone beside index entry ENTRY (0: none). */
static uint64_t gone_count(const char *entry)
{
	char v[32], *p = malloc(strlen(entry) + 6);
	ssize_t n = -1;

	if (p) {
		sprintf(p, "%s.gone", entry);
		n = readlink(p, v, sizeof v - 1);
		free(p);
	}
	if (n <= 0)
		return 0;
	v[n] = '\0';
	return strtoull(v, NULL, 10);
}

/* Is index entry P (name "L-INO") used: an upper name links it, or a
 * lower name of it is still answered by it? (true when unsure) */
static bool entry_used(struct uc_check *c, const char *p)
{
	const struct us_mount *m = uc_mount(&c->l);
	struct stat st;
	struct us_origin o;

	if (lstat(p, &st) < 0 || st.st_nlink > 1)
		return true;
	bool xattrs = S_ISREG(st.st_mode) || S_ISDIR(st.st_mode);
	if (!(xattrs ? us_origin_read(p, -1, &o)
		     : us_origin_read_aside(m, p, st.st_ino, &o)))
		return true;
	if (!xattrs)
		uc_set_add(&c->aside_used, st.st_ino);
	return gone_count(p) < o.nlink;
}

static void check_index(struct uc_check *c, const char *dir)
{
	char **v = names_of(dir);

	for (size_t i = 0; v && v[i]; i++) {
		int layer, used = 0, pid;
		uint64_t ino;
		char *p = join(dir, v[i]);
		if (!p)
			break;
		if (sscanf(v[i], "%d-%" SCNu64 "%n", &layer, &ino, &used) != 2) {
			uc_note(c, p, "not the shim's (left alone)");
		} else if (!v[i][used]) {
			if (!entry_used(c, p)) {
				uc_problem_remove(c, p, "link-index entry no name uses any more");
				char *g = malloc(strlen(p) + 6);
				if (g && c->repair)
					sprintf(g, "%s.gone", p), unlink(g);
				free(g);
			}
		} else if (sscanf(v[i] + used, ".gone.%d", &pid) == 1) {
			uc_problem_remove(c, p, "link-index count of an interrupted change (its process is gone)");
		} else if (!strcmp(v[i] + used, ".gone")) {
			struct stat st;
			bool self = lstat(p, &st) == 0; /* not gone with its entry */
			p[strlen(p) - 5] = '\0';
			bool entry = lstat(p, &st) == 0;
			strcat(p, ".gone");
			if (self && !entry)
				uc_problem_remove(c, p, "link-index count of an entry that is gone");
		} else {
			uc_note(c, p, "not the shim's (left alone)");
		}
		free(p);
	}
	uc_names_free(v);
}

static void check_origins(struct uc_check *c, const char *dir)
{
	char **v = names_of(dir);

	for (size_t i = 0; v && v[i]; i++) {
		char *p = join(dir, v[i]), *end;
		if (!p)
			break;
		uint64_t ino = strtoull(v[i], &end, 10);
		if (*end || end == v[i])
			uc_note(c, p, "not the shim's (left alone)");
		else if (!uc_set_has(&c->aside_used, ino))
			uc_problem_remove(c, p, "origin record of an object no longer in the upper");
		free(p);
	}
	uc_names_free(v);
}

/* The inode numbers of lower layer LAYER, read once into SETS[LAYER]. */
static int read_layer(const char *dir, struct uc_set *s, struct uc_check *c)
{
	char **v = names_of(dir);
	struct stat st;

	for (size_t i = 0; v && v[i]; i++) {
		char *p = join(dir, v[i]);
		if (p && lstat(p, &st) == 0) {
			uc_set_add(s, st.st_ino);
			uc_progress(c->cmd, s->n, "lower names read", 0);
			if (S_ISDIR(st.st_mode))
				read_layer(p, s, c);
		}
		free(p);
	}
	uc_names_free(v);
	return 0;
}

/* Is N the inode number of an object of lower LAYER (read once)? */
static bool in_lower(struct uc_check *c, int layer, uint64_t ino,
		     struct uc_set *lowers, bool *read)
{
	const struct us_mount *m = uc_mount(&c->l);

	if (!read[layer]) {
		read_layer(m->layers[layer].path, &lowers[layer], c);
		read[layer] = true;
	}
	return uc_set_has(&lowers[layer], ino);
}

/* With every layer on one filesystem a union number is a real inode
 * number of some layer (identity.h): any layer given may hold it. */
static bool proxy_used_samefs(struct uc_check *c, uint64_t n,
			      struct uc_set *lowers, bool *read)
{
	const struct us_mount *m = uc_mount(&c->l);

	if (uc_set_has(&c->origins, n) || uc_set_has(&c->upper_inos, n))
		return true;
	if (m->nlayers <= 1)
		return true; /* no lower given: cannot tell */
	for (int l = 1; l < m->nlayers; l++)
		if (in_lower(c, l, n, lowers, read))
			return true;
	return false;
}

static bool proxy_used(struct uc_check *c, uint64_t n, struct uc_set *lowers,
		       bool *read)
{
	const struct us_mount *m = uc_mount(&c->l);
	if (us_mount_samefs(m))
		return proxy_used_samefs(c, n, lowers, read);
	int layer = (int)(n >> LAYER_SHIFT);
	uint64_t ino = n & ((UINT64_C(1) << LAYER_SHIFT) - 1);

	if (n >> 63)
		return true; /* a hashed number: its object cannot be named */
	if (uc_set_has(&c->origins, n) ||
	    (layer == 0 && uc_set_has(&c->upper_inos, ino)))
		return true;
	if (layer == 0 || layer >= m->nlayers)
		return layer != 0; /* a lower not given: cannot tell */
	return in_lower(c, layer, ino, lowers, read);
}

static void check_locks(struct uc_check *c, const char *dir)
{
	char **v = names_of(dir);
	struct uc_set lowers[US_MAX_LAYERS] = {{0}};
	bool read[US_MAX_LAYERS] = {false};

	for (size_t i = 0; v && v[i]; i++) {
		char *p = join(dir, v[i]), *end;
		if (!p)
			break;
		uint64_t n = strtoull(v[i], &end, 16);
		if (*end || strlen(v[i]) != 16)
			uc_note(c, p, "not the shim's (left alone)");
		else if (!proxy_used(c, n, lowers, read))
			/* the trace of a lock on an object since removed
			 * (SQLite's journals, lock files): an empty file that
			 * no lock can reach again, left because a process may
			 * still hold an fd on the object; harmless */
			uc_note_remove(c, p, "lock proxy of an object no layer has");
		free(p);
	}
	for (int i = 0; i < US_MAX_LAYERS; i++)
		uc_set_free(&lowers[i]);
	uc_names_free(v);
}

static bool is_lock_file(const char *name)
{
	unsigned n;
	int used = 0;

	return sscanf(name, "#lock.%2u%n", &n, &used) == 1 && !name[used];
}

static int settle_state(const char *work)
{
	unsigned busy, scan;

	return us_shared_settle(work, true, &busy, &scan) < 0 ? -1 : 0;
}

/* #state's words that say a change is under way (no process runs now,
 * so none will end it). */
static void check_state(struct uc_check *c, const char *work)
{
	unsigned busy, scan;
	char *p = join(work, "#state");
	int rc = p ? us_shared_settle(work, false, &busy, &scan) : 1;

	if (rc < 0) {
		uc_problem(c, p, "cannot be read");
	} else if (rc == 0 && (busy || scan)) {
		char what[256];
		snprintf(what, sizeof what,
			 "%u word%s say%s a change is under way that no process "
			 "will end (a process killed mid-change): the lookup caches "
			 "skip %s%s",
			 busy, busy == 1 ? "" : "s", busy == 1 ? "s" : "",
			 busy ? "those dirs" : "nothing",
			 scan ? "; a scan of the upper for records (renamed "
				"dirs, copies) was left half done" : "");
		uc_problem_reset(c, p, what, settle_state, work);
	}
	free(p);
}

int uc_check_work(struct uc_check *c)
{
	const char *work = c->l.cwork;
	char **v = names_of(work);

	if (!v) {
		uc_say(c->cmd, "cannot read the work dir ", work, NULL);
		return -1;
	}
	/* the index first: its entries use origin records too */
	static const char *const order[] = {"#index", "#origin", "#locks"};
	static void (*const fn[])(struct uc_check *, const char *) = {
		check_index, check_origins, check_locks};
	for (size_t k = 0; k < 3; k++) {
		char *p = join(work, order[k]);
		struct stat st;
		if (p && lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			fn[k](c, p);
		free(p);
	}
	check_state(c, work);
	for (size_t i = 0; v[i]; i++) {
		const char *n = v[i];
		char *p = join(work, n);
		if (!p)
			break;
		if (!strncmp(n, "#us.", 4))
			uc_problem_remove(c, p, "temp of an interrupted copy-up (its process is gone)");
		else if (!strcmp(n, "#commit"))
			uc_problem(c, p, "journal of an interrupted commit: run unionctl commit again to finish it");
		else if (!strcmp(n, "work") || !strcmp(n, "index"))
			uc_note(c, p, "kernel overlayfs's (left alone)");
		else if (strcmp(n, "#state") && !is_lock_file(n) &&
			 strcmp(n, "#index") && strcmp(n, "#origin") && strcmp(n, "#locks"))
			uc_note(c, p, "not the shim's (left alone)");
		free(p);
	}
	uc_names_free(v);
	return 0;
}
