/* strfmt.c: the string functions and snprintf of the audit library, which
 * links no libc (see sysraw.c). Byte at a time: the callers handle short
 * paths a few times per library load. Built -fno-builtin
 * -fno-tree-loop-distribute-patterns so that no loop here becomes a call
 * of itself. snprintf and vsnprintf are the core's formatter (fmt.c
 * names them for this module). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nolibc.h"

void *memchr(const void *s, int c, size_t n)
{
	const unsigned char *p = s;

	for (size_t i = 0; i < n; i++)
		if (p[i] == (unsigned char)c)
			return (void *)(p + i);
	return NULL;
}

char *strstr(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	if (!n)
		return (char *)hay;
	for (; *hay; hay++) /* a call only where the first byte matches */
		if (*hay == *needle && strncmp(hay, needle, n) == 0)
			return (char *)hay;
	return NULL;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

size_t strlen(const char *s)
{
	const char *p = s;

	while (*p)
		p++;
	return (size_t)(p - s);
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++)
		if (*a != *b || !*a)
			return (unsigned char)*a - (unsigned char)*b;
	return 0;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

void *memcpy(void *restrict d, const void *restrict s, size_t n)
{
	unsigned char *o = d;
	const unsigned char *i = s;

	while (n--)
		*o++ = *i++;
	return d;
}

void *memmove(void *d, const void *s, size_t n)
{
	unsigned char *o = d;
	const unsigned char *i = s;

	if (o < i)
		while (n--)
			*o++ = *i++;
	else
		while (n--)
			o[n] = i[n];
	return d;
}

void *memset(void *d, int c, size_t n)
{
	unsigned char *o = d;

	while (n--)
		*o++ = (unsigned char)c;
	return d;
}

char *strchrnul(const char *s, int c)
{
	while (*s && *s != (char)c)
		s++;
	return (char *)s;
}

char *strchr(const char *s, int c)
{
	s = strchrnul(s, c);
	return *s == (char)c ? (char *)s : NULL;
}

char *strrchr(const char *s, int c)
{
	const char *last = NULL;

	do
		if (*s == (char)c)
			last = s;
	while (*s++);
	return (char *)last;
}

char *strcpy(char *restrict d, const char *restrict s)
{
	return memcpy(d, s, strlen(s) + 1);
}

char *strndup(const char *s, size_t n)
{
	size_t len = 0;

	while (len < n && s[len])
		len++;
	char *d = malloc(len + 1);
	if (d) {
		memcpy(d, s, len);
		d[len] = '\0';
	}
	return d;
}

char *strdup(const char *s)
{
	return strndup(s, SIZE_MAX);
}

void us_nl_utoa(char *out, unsigned v)
{
	char tmp[12];
	int n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while (v /= 10);
	while (n)
		*out++ = tmp[--n];
	*out = '\0';
}
