/* handover.c: the resolved configuration passed from a union process to
 * its children (see handover.h).
 *
 * The record is text: the spec's hash, then per mount ";ROOTS" (the
 * layers whose root joins the merged root) and ",DEV.INO" for each of its
 * dirs in spec order (layers, work dir, target), all in hex. Adopting it
 * costs one parse of the spec and one stat per dir, where a full
 * validation costs a realpath (a readlink per component) and an opacity
 * probe per dir. Anything unexpected (another spec, a dir replaced, a
 * record cut short) means a full validation: the record only ever saves
 * work, it never decides what a union is. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sys.h"
#include "unionshim/handover.h"
#include "unionshim/ownalloc.h"

/* FNV-1a: binds the record to the exact text of the spec. */
uint64_t us_handover_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

/* The dirs of M in record order: layers, the work dir, the target. */
static int ndirs(const struct us_mount *m)
{
	return m->nlayers + (m->work ? 1 : 0) + 1;
}

static const char *dir_at(const struct us_mount *m, int i)
{
	if (i < m->nlayers)
		return m->layers[i].path;
	if (m->work && i == m->nlayers)
		return m->work;
	return m->target;
}

char *us_handover_make(const struct us_config *cfg, const char *spec)
{
	size_t room = 20, pos;
	struct stat st;

	for (int k = 0; k < cfg->nmounts; k++)
		room += 18 + (size_t)ndirs(&cfg->mounts[k]) * 36;
	char *out = us_own_malloc(room);
	if (!out)
		return NULL;
	pos = (size_t)snprintf(out, room, "%" PRIx64, us_handover_hash(spec));
	for (int k = 0; k < cfg->nmounts; k++) {
		const struct us_mount *m = &cfg->mounts[k];
		pos += (size_t)snprintf(out + pos, room - pos, ";%" PRIx64,
					m->root_dirs);
		for (int i = 0; i < ndirs(m); i++) {
			if (SYS(stat)(dir_at(m, i), &st) < 0) {
				us_own_free(out);
				return NULL;
			}
			pos += (size_t)snprintf(out + pos, room - pos,
						",%jx.%jx",
						(uintmax_t)st.st_dev,
						(uintmax_t)st.st_ino);
		}
	}
	return out;
}

/* The separator C at *S, passed. */
static bool take(const char **s, char c)
{
	if (**s != c)
		return false;
	(*s)++;
	return true;
}

/* The hex number (1 to 16 lower-case digits) at *S, passed. */
static bool hex(const char **s, uint64_t *v)
{
	int n = 0;

	for (*v = 0; n < 17; n++, (*s)++) {
		char c = **s;
		if (c >= '0' && c <= '9')
			*v = *v << 4 | (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v = *v << 4 | (uint64_t)(c - 'a' + 10);
		else
			break;
	}
	return n >= 1 && n <= 16;
}

/* P as a canonical path is written: absolute, no empty, "." or ".."
 * component, no trailing slash (what validation makes of every path). */
static bool canonical_text(const char *p)
{
	if (p[0] != '/' || p[1] == '\0')
		return false;
	for (const char *c = p; *c; c++) {
		if (*c != '/')
			continue;
		const char *n = c + 1;
		if (*n == '\0' || *n == '/' ||
		    (n[0] == '.' && (n[1] == '/' || n[1] == '\0')) ||
		    (n[0] == '.' && n[1] == '.' && (n[2] == '/' || n[2] == '\0')))
			return false;
	}
	return true;
}

/* Each dir of M is the dir the record names; the rest of *REC moves on. */
static bool same_dirs(struct us_mount *m, const char **rec)
{
	struct stat st;
	uint64_t roots, dev, ino;
	dev_t upper_dev = 0, layer_dev = 0;
	bool samefs = true;

	if (!take(rec, ';') || !hex(rec, &roots) || roots == 0 ||
	    (roots & (roots + 1)) != 0 ||
	    (m->nlayers < 64 && roots >> m->nlayers))
		return false;
	for (int i = 0; i < ndirs(m); i++) {
		const char *dir = dir_at(m, i);
		if (!take(rec, ',') || !hex(rec, &dev) || !take(rec, '.') ||
		    !hex(rec, &ino))
			return false;
		if (!canonical_text(dir) || SYS(stat)(dir, &st) < 0 ||
		    !S_ISDIR(st.st_mode) || (uint64_t)st.st_dev != dev ||
		    (uint64_t)st.st_ino != ino)
			return false;
		if (i == 0 && m->has_upper)
			upper_dev = st.st_dev;
		if (i < m->nlayers) {
			samefs = samefs && (i == 0 || st.st_dev == layer_dev);
			layer_dev = st.st_dev;
		}
		if (m->work && i == m->nlayers && st.st_dev != upper_dev)
			return false;
	}
	m->root_dirs = roots;
	m->target_len = strlen(m->target);
	m->dev = 0;
	m->samefs = samefs ? 2 : 1;
	return true;
}

void us_handover_tail_write(char *out, const struct us_handover_tail *t)
{
	static const char digits[] = "0123456789abcdef";
	char *p = out;
	int shift = 60;

	*p++ = ' ';
	while (shift > 0 && !(t->lib_hash >> shift & 0xf))
		shift -= 4;
	for (; shift >= 0; shift -= 4)
		*p++ = digits[t->lib_hash >> shift & 0xf];
	*p++ = ':';
	*p++ = t->audit;
	if (t->loader)
		*p++ = t->loader;
	*p = '\0';
}

bool us_handover_tail_read(const char *tail, struct us_handover_tail *t)
{
	if (!tail || !take(&tail, ' ') || !hex(&tail, &t->lib_hash) ||
	    !take(&tail, ':') || (*tail != 'a' && *tail != 'n'))
		return false;
	t->audit = *tail++;
	t->loader = *tail == 'l' || *tail == 'q' ? *tail : 0;
	return true;
}

bool us_handover_for(const char *spec, const char *rec)
{
	uint64_t h;

	return rec && hex(&rec, &h) && h == us_handover_hash(spec);
}

/* Adopt REC for SPEC into CFG (parsed): true when every dir matched. */
static bool adopt(const char *spec, const char *rec, struct us_config *cfg)
{
	char err[160];
	uint64_t h;

	if (!hex(&rec, &h) || h != us_handover_hash(spec))
		return false;
	if (us_config_parse(spec, cfg, err, sizeof err) < 0)
		return false;
	for (int k = 0; k < cfg->nmounts; k++)
		if (!same_dirs(&cfg->mounts[k], &rec))
			goto stale;
	if ((*rec == '\0' || *rec == ' ') &&
	    us_config_check_text(cfg, err, sizeof err) == 0)
		return true;
stale:
	us_config_free(cfg);
	return false;
}

int us_config_load(const char *spec, const char *rec, struct us_config *cfg,
		   char *err, size_t errlen)
{
	if (rec && adopt(spec, rec, cfg))
		return 1;
	if (us_config_parse(spec, cfg, err, errlen) < 0)
		return -1;
	if (us_config_validate(cfg, err, errlen) < 0) {
		us_config_free(cfg);
		return -1;
	}
	return 0;
}
