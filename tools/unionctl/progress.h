/* progress.h: one self-rewriting status line on stderr while a long run
 * goes on, only when stderr is a terminal (logs stay quiet). */
#ifndef PROGRESS_H
#define PROGRESS_H

#include <stdint.h>

/* Show "unionctl CMD: N WHAT[, X MiB]" at most five times a second. */
void uc_progress(const char *cmd, uint64_t n, const char *what,
		 uint64_t bytes);

/* Erase the line, if one was shown. */
void uc_progress_end(void);

#endif
