/* fuzz_config.c: us_config_parse and us_config_format (UNIONSHIM_MOUNTS).
 *
 * Input: the spec text. Properties: a refused spec leaves an empty config
 * and one line of error text within the buffer; an accepted one has what
 * config.h promises (a target, a lowerdir, work dir exactly with an upper,
 * no empty path, lengths right, limits kept); it formats within
 * us_config_format_room (what init.c gives it), and fails cleanly in any
 * smaller buffer; parse(format(cfg)) is cfg and format is a fixed point;
 * errno is left as it was on success; nothing leaks (LeakSanitizer). */
#include <errno.h>

#include "unionshim/config.h"
#include "fuzz.h"

#define ERRLEN 256
#define ERRNO_MARK 4242

static void check_shape(const struct us_config *c)
{
	FUZZ_CHECK(c->nmounts >= 1 && c->nmounts <= US_MAX_MOUNTS, "%d mounts",
		   c->nmounts);
	for (int k = 0; k < c->nmounts; k++) {
		const struct us_mount *m = &c->mounts[k];
		FUZZ_CHECK(m->target && *m->target, "mount %d: no target", k);
		FUZZ_CHECK(!m->work == !m->has_upper, "mount %d: work %p, "
			   "upper %d", k, (void *)m->work, m->has_upper);
		FUZZ_CHECK(!m->work || *m->work, "mount %d: empty work", k);
		FUZZ_CHECK(m->nlayers >= 1 + m->has_upper &&
				   m->nlayers <= US_MAX_LAYERS,
			   "mount %d: %d layers", k, m->nlayers);
		for (int i = 0; i < m->nlayers; i++)
			FUZZ_CHECK(m->layers[i].path && *m->layers[i].path &&
					   m->layers[i].len ==
						   strlen(m->layers[i].path),
				   "mount %d layer %d", k, i);
	}
}

static int str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void check_same(const struct us_config *a, const struct us_config *b)
{
	FUZZ_CHECK(a->nmounts == b->nmounts, "%d mounts, then %d", a->nmounts,
		   b->nmounts);
	for (int k = 0; k < a->nmounts; k++) {
		const struct us_mount *x = &a->mounts[k], *y = &b->mounts[k];
		FUZZ_CHECK(str_eq(x->target, y->target) &&
				   str_eq(x->work, y->work) &&
				   x->has_upper == y->has_upper &&
				   x->nlayers == y->nlayers,
			   "mount %d changed in the round trip", k);
		for (int i = 0; i < x->nlayers; i++)
			FUZZ_CHECK(str_eq(x->layers[i].path, y->layers[i].path),
				   "mount %d layer %d: '%s' came back as '%s'", k,
				   i, x->layers[i].path, y->layers[i].path);
	}
}

/* Format CFG into buffers of every interesting size around its length. */
static char *check_format(const struct us_config *cfg)
{
	size_t cap = us_config_format_room(cfg);
	char *big = fuzz_buf(cap);

	errno = ERRNO_MARK;
	FUZZ_CHECK(us_config_format(cfg, big, cap) == 0,
		   "format needs more than %zu bytes", cap);
	FUZZ_CHECK(errno == ERRNO_MARK, "format changed errno to %d", errno);
	size_t need = strlen(big) + 1;
	char *out = strdup(big);
	if (!out)
		abort();
	fuzz_buf_free(big, cap);
	const size_t sizes[] = {need, need - 1, need - 2, need / 2, 1, 0};
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		size_t n = sizes[i];
		char *b = fuzz_buf(n);
		errno = 0;
		int rc = us_config_format(cfg, b, n);
		FUZZ_CHECK(rc == (n == need ? 0 : -1), "format in %zu of %zu "
			   "bytes: %d", n, need, rc);
		FUZZ_CHECK(rc < 0 ? errno == ENAMETOOLONG : strcmp(b, out) == 0,
			   "format in %zu bytes", n);
		fuzz_buf_free(b, n);
	}
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct us_config cfg, again;
	char *spec = fuzz_str(data, size), *err = fuzz_buf(ERRLEN);

	err[0] = '\0';
	errno = ERRNO_MARK;
	if (us_config_parse(spec, &cfg, err, ERRLEN) < 0) {
		FUZZ_CHECK(cfg.nmounts == 0, "a refused spec kept %d mounts",
			   cfg.nmounts);
		FUZZ_CHECK(err[0] && memchr(err, '\0', ERRLEN),
			   "refused without a message");
		FUZZ_CHECK(!strchr(err, '\n') || strchr(spec, '\n'),
			   "a message of two lines: %s", err);
		goto out;
	}
	FUZZ_CHECK(errno == ERRNO_MARK, "parse changed errno to %d", errno);
	check_shape(&cfg);
	char *text = check_format(&cfg);
	FUZZ_CHECK(us_config_parse(text, &again, err, ERRLEN) == 0,
		   "its own format refused: %s: %s", text, err);
	check_same(&cfg, &again);
	char *text2 = check_format(&again);
	FUZZ_CHECK(strcmp(text, text2) == 0, "format is no fixed point: '%s' "
		   "then '%s'", text, text2);
	free(text);
	free(text2);
	us_config_free(&again);
	us_config_free(&cfg);
	FUZZ_CHECK(cfg.nmounts == 0, "free left mounts");
out:
	fuzz_buf_free(err, ERRLEN);
	free(spec);
	return 0;
}
