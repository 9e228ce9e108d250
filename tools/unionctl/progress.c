/* progress.c: the status line of long unionctl runs (see progress.h). */
#include <stdbool.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

static int tty = -1;
static bool shown;
static struct timespec last;

void uc_progress(const char *cmd, uint64_t n, const char *what,
		 uint64_t bytes)
{
	struct timespec now;

	if (tty < 0)
		tty = isatty(2);
	if (!tty)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long ms = (now.tv_sec - last.tv_sec) * 1000 +
		  (now.tv_nsec - last.tv_nsec) / 1000000;
	if (shown && ms < 200)
		return;
	last = now;
	shown = true;
	if (bytes)
		fprintf(stderr, "\runionctl %s: %llu %s, %llu MiB\033[K", cmd,
			(unsigned long long)n, what,
			(unsigned long long)(bytes >> 20));
	else
		fprintf(stderr, "\runionctl %s: %llu %s\033[K", cmd,
			(unsigned long long)n, what);
	fflush(stderr);
}

void uc_progress_end(void)
{
	if (shown)
		fprintf(stderr, "\r\033[K");
	shown = false;
}
