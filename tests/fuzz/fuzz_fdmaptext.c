/* fuzz_fdmaptext.c: the UNIONSHIM_FDMAP text (fdmaptext.h).
 *
 * Input: one byte of buffer size, then the text. Properties: the reader
 * moves forward on every entry and not at all at the end; each entry it
 * takes is four numbers in range that strtoll reads alike, so no number
 * wraps to another fd, and that sscanf("%d:%d:%d:%u"), the reader the shim
 * had before, reads alike too; entries written back by the writer read the
 * same and end exactly at the end; the writer never writes past its
 * buffer, keeps it a string, and leaves it as it was when an entry does
 * not fit. */
#include <limits.h>

#include "unionshim/fdmaptext.h"
#include "fuzz.h"

#define MAXREC 1024

static struct us_fdmap_rec recs[MAXREC];

static int rec_eq(const struct us_fdmap_rec *a, const struct us_fdmap_rec *b)
{
	return a->fd == b->fd && a->group == b->group && a->proxy == b->proxy &&
	       a->gen == b->gen;
}

/* The entry [P, END) was taken as R: read its four numbers with strtoll. */
static void check_taken(const char *p, const char *end,
			const struct us_fdmap_rec *r)
{
	const long long want[4] = {r->fd, r->group, r->proxy, r->gen};

	for (int i = 0; i < 4; i++) {
		char *e;
		FUZZ_CHECK((*p >= '0' && *p <= '9') || (*p == '-' && i < 3),
			   "field %d starts with '%c'", i, *p);
		long long v = strtoll(p, &e, 10);
		FUZZ_CHECK(v == want[i], "field %d: text %lld, taken %lld", i,
			   v, want[i]);
		FUZZ_CHECK(i < 3 ? *e == ':' : e == end, "field %d ends at '%c'",
			   i, *e);
		p = e + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t len = data[0];
	char *text = fuzz_str(data + 1, size - 1);
	const char *s = text;
	int n = 0;

	while (n < MAXREC) {
		const char *at = s;
		struct us_fdmap_rec r;
		if (us_fdmaptext_next(&s, &r) != 1) {
			FUZZ_CHECK(s == at, "moved at the end");
			break;
		}
		FUZZ_CHECK(s > at && s <= at + strlen(at), "did not move on");
		const char *end = s[-1] == ';' ? s - 1 : s; /* before the ';' */
		check_taken(at, end, &r);
		int fd, group, proxy;
		unsigned gen;
		FUZZ_CHECK(sscanf(at, "%d:%d:%d:%u", &fd, &group, &proxy,
				  &gen) == 4 &&
				   rec_eq(&r, &(struct us_fdmap_rec){fd, group,
								     proxy,
								     gen}),
			   "sscanf reads the entry otherwise");
		recs[n++] = r;
	}
	/* write them back: all into a big buffer, then into LEN bytes */
	size_t cap = (size_t)n * 48 + 1, used = 0;
	char *big = fuzz_buf(cap);
	big[0] = '\0';
	for (int i = 0; i < n; i++)
		FUZZ_CHECK(us_fdmaptext_put(big, cap, &used, &recs[i]),
			   "entry %d does not fit in %zu", i, cap);
	FUZZ_CHECK(strlen(big) == used, "used %zu, wrote %zu", used,
		   strlen(big));
	s = big;
	for (int i = 0; i < n; i++) {
		struct us_fdmap_rec r;
		FUZZ_CHECK(us_fdmaptext_next(&s, &r) == 1 && rec_eq(&r, &recs[i]),
			   "entry %d read back otherwise", i);
	}
	FUZZ_CHECK(*s == '\0', "entries left over: %s", s);
	if (len > 0) {
		char *small = fuzz_buf(len), *before = fuzz_buf(len);
		int fit = 0;
		used = 0;
		small[0] = '\0';
		for (; fit < n; fit++) {
			memcpy(before, small, len);
			if (!us_fdmaptext_put(small, len, &used, &recs[fit]))
				break;
		}
		FUZZ_CHECK(strlen(small) == used && used < len, "small buffer");
		if (fit < n)
			FUZZ_CHECK(memcmp(before, small, used + 1) == 0,
				   "a put that did not fit changed the buffer");
		FUZZ_CHECK(strncmp(small, big, used) == 0,
			   "small buffer holds another text");
		fuzz_buf_free(small, len);
		fuzz_buf_free(before, len);
	}
	fuzz_buf_free(big, cap);
	free(text);
	return 0;
}
