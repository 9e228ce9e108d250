/* fuzz_path.c: the lexical path helpers of path.h against a reference
 * model written for this target alone (components on a stack).
 *
 * Input: two bytes of buffer size (0..1023), then A, a NUL, then B.
 * Properties: join is A, one slash, B, or ENAMETOOLONG exactly when that
 * does not fit, also in place; normalize gives the model's answer and
 * dotdot flag, fails only when a step on the way does not fit (never for an
 * absolute path shorter than the buffer), and is idempotent; pop drops the
 * last component; under agrees with its definition. Every output goes into
 * a buffer of exactly the stated size. */
#include <errno.h>
#include <stdbool.h>

#include "unionshim/path.h"
#include "fuzz.h"

/* The model of normalize: the answer into OUT (big enough), the dotdot
 * flag, and the longest string (with its NUL) it holds on the way. */
static void model_normalize(const char *in, char *out, bool *dotdot,
			    size_t *peak)
{
	size_t len = 0;

	*dotdot = false;
	*peak = 1;
	out[0] = '\0';
	for (const char *p = in; *p;) {
		size_t cl = strcspn(p, "/");
		if (cl == 2 && p[0] == '.' && p[1] == '.') {
			*dotdot = true;
			while (len > 0 && out[--len] != '/')
				;
			out[len] = '\0';
		} else if (cl > 0 && !(cl == 1 && p[0] == '.')) {
			out[len++] = '/';
			memcpy(out + len, p, cl);
			len += cl;
			out[len] = '\0';
			if (len + 1 > *peak)
				*peak = len + 1;
		}
		p += cl;
		p += *p == '/';
	}
	if (len == 0) {
		strcpy(out, "/");
		if (*peak < 2)
			*peak = 2;
	}
}

static void check_join(const char *a, const char *b, size_t outlen)
{
	size_t al = strlen(a), bl = strlen(b);
	bool slash = !(al > 0 && a[al - 1] == '/');
	size_t need = al + slash + bl + 1;
	char *want = fuzz_buf(need), *out = fuzz_buf(outlen);

	snprintf(want, need, "%s%s%s", a, slash ? "/" : "", b);
	errno = 0;
	int rc = us_path_join(out, outlen, a, b);
	FUZZ_CHECK(rc == (need <= outlen ? 0 : -1), "join rc %d, need %zu, "
		   "have %zu", rc, need, outlen);
	if (rc == 0)
		FUZZ_CHECK(strcmp(out, want) == 0, "join gave '%s'", out);
	else
		FUZZ_CHECK(errno == ENAMETOOLONG, "join errno %d", errno);
	if (al < outlen) { /* in place: OUT already holds A */
		memcpy(out, a, al + 1);
		rc = us_path_join(out, outlen, out, b);
		FUZZ_CHECK(rc == (need <= outlen ? 0 : -1), "in-place join rc");
		FUZZ_CHECK(rc < 0 || strcmp(out, want) == 0,
			   "in-place join gave '%s'", out);
	}
	fuzz_buf_free(want, need);
	fuzz_buf_free(out, outlen);
}

static void check_pop(const char *canon)
{
	size_t len = strlen(canon), plen = len;
	char *p = strdup(canon);
	const char *slash = strrchr(canon, '/');

	if (!p)
		abort();
	us_path_pop(p, &plen);
	/* "/a/b" -> "/a", "/a" -> "" (the root), "/" -> "" */
	size_t want = slash ? (size_t)(slash - canon) : 0;
	FUZZ_CHECK(plen == want && strlen(p) == plen &&
			   strncmp(p, canon, plen) == 0,
		   "pop of '%s' gave '%s' (%zu)", canon, p, plen);
	free(p);
}

static void check_normalize(const char *in, size_t outlen)
{
	size_t inlen = strlen(in), cap = 2 * inlen + 2, peak;
	char *want = fuzz_buf(cap), *out = fuzz_buf(outlen);
	bool want_dd, dd = true; /* normalize must clear it */

	model_normalize(in, want, &want_dd, &peak);
	errno = 0;
	int rc = us_path_normalize(in, out, outlen, &dd);
	if (in[0] == '/' && inlen < outlen)
		FUZZ_CHECK(rc == 0, "normalize of a path that fits failed");
	FUZZ_CHECK(rc == (peak <= outlen ? 0 : -1),
		   "normalize rc %d, peak %zu, have %zu", rc, peak, outlen);
	if (rc < 0) {
		FUZZ_CHECK(errno == ENAMETOOLONG, "normalize errno %d", errno);
	} else {
		FUZZ_CHECK(strcmp(out, want) == 0, "normalize gave '%s', "
			   "model '%s'", out, want);
		FUZZ_CHECK(dd == want_dd, "dotdot %d", dd);
		FUZZ_CHECK(out[0] == '/' && !strstr(out, "//") &&
				   !strstr(out, "/./") && !strstr(out, "/../") &&
				   (out[1] == '\0' || out[strlen(out) - 1] != '/'),
			   "normalize gave a non-canonical '%s'", out);
		/* idempotent, and no ".." left to meet */
		size_t ol = strlen(out) + 1;
		char *again = fuzz_buf(ol);
		FUZZ_CHECK(us_path_normalize(out, again, ol, &dd) == 0 &&
				   strcmp(again, out) == 0,
			   "normalize of '%s' gave '%s'", out, again);
		FUZZ_CHECK(!dd, "'%s' still has a '..'", out);
		fuzz_buf_free(again, ol);
		check_pop(out);
	}
	fuzz_buf_free(want, cap);
	fuzz_buf_free(out, outlen);
}

static void check_under(const char *path, const char *prefix)
{
	size_t pl = strlen(prefix);
	bool want = strncmp(path, prefix, pl) == 0 &&
		    (path[pl] == '\0' || path[pl] == '/');

	FUZZ_CHECK(us_path_under(path, prefix, pl) == want,
		   "under('%s', '%s')", path, prefix);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t outlen = ((size_t)data[0] | (size_t)data[1] << 8) % 1024;
	char *a = fuzz_str(data + 2, size - 2); /* up to the first NUL */
	size_t al = strlen(a), boff = 2 + al + (2 + al < size);
	char *b = fuzz_str(data + boff, size - boff); /* the rest */

	check_join(a, b, outlen);
	check_normalize(a, outlen);
	check_normalize(b, outlen);
	check_under(a, b);
	check_under(b, a);
	free(a);
	free(b);
	return 0;
}
