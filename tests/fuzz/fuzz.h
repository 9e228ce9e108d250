/* fuzz.h: what the fuzz targets share. Each target is one
 * LLVMFuzzerTestOneInput that checks properties of a core module (round
 * trips, idempotence, a reference model, buffer bounds); it is built twice:
 * with libFuzzer by `make fuzz` (clang), and with replay.c by `make check`
 * (any compiler, ASan and UBSan), which feeds it every file of its seeds
 * (tests/fuzz/seeds/NAME, written by hand) and of its corpus
 * (tests/fuzz/corpus/NAME, found by libFuzzer and minimized by
 * tests/fuzz/run). A broken property aborts with one line naming it. */
#ifndef UNIONSHIM_FUZZ_H
#define UNIONSHIM_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                             \
	do {                                                              \
		if (!(cond)) {                                            \
			fprintf(stderr, "%s:%d: property broken: %s: ",   \
				__FILE__, __LINE__, #cond);               \
			fprintf(stderr, __VA_ARGS__);                     \
			fputc('\n', stderr);                              \
			abort();                                          \
		}                                                         \
	} while (0)

/* DATA[0..SIZE) as a fresh C string (it ends at the first NUL). */
static inline char *fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* A buffer of exactly N bytes (ASan then sees a write past it). */
static inline char *fuzz_buf(size_t n)
{
	char *b = malloc(n ? n : 1);

	if (!b)
		abort();
	return n ? b : b + 1; /* 0 bytes: any access is past the end */
}

static inline void fuzz_buf_free(char *b, size_t n)
{
	free(n ? b : b - 1);
}

#endif
