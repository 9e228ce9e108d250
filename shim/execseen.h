/* execseen.h: the programs this process has already read to be plain
 * dynamic ELF executables, by identity (see execseen.c). */
#ifndef UNIONSHIM_EXECSEEN_H
#define UNIONSHIM_EXECSEEN_H

#include <stdbool.h>
#include <sys/stat.h>

#include "real.h"

/* Was the file ST describes (unchanged since) found to be a dynamic ELF
 * program with no set-id bit? */
US_HIDDEN bool us_execseen_dynamic(const struct stat *st);

/* Remember that it was. */
US_HIDDEN void us_execseen_add(const struct stat *st);

#endif
