/* handover.h: the resolved configuration a union process hands its
 * children (UNIONSHIM_RESOLVED), so that a new program does not redo the
 * realpath and opacity work its parent already did.
 *
 * The record names the spec it was made for (a hash of the exact
 * UNIONSHIM_MOUNTS text) and, for every dir of every mount, the device and
 * inode it had. A child adopts it only when the spec is the same text and
 * one stat of each dir finds the same dir: a stale or foreign record is
 * detected and the configuration is then validated in full, never trusted
 * blindly. */
#ifndef UNIONSHIM_HANDOVER_H
#define UNIONSHIM_HANDOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "unionshim/config.h"

#define US_ENV_RESOLVED "UNIONSHIM_RESOLVED"

/* The record of CFG (validated, made from SPEC, the text its children get
 * as UNIONSHIM_MOUNTS) in a malloc'd string, or NULL (out of memory, or a
 * dir that no longer stats: the children then validate in full). */
char *us_handover_make(const struct us_config *cfg, const char *spec);

/* The hash that binds a record to a text (FNV-1a, 64 bits). */
uint64_t us_handover_hash(const char *s);

/* A record may be followed by ' ' and text of the caller's own (the core
 * reads up to the ' '): the preload library's tail, " HASH:AL", the hash
 * of the library's path, 'a' when the audit library lies beside it (else
 * 'n'), and 'l' when a union meets the loader's own dirs (loaderdirs.h;
 * else 'q'). A tail of an older library may lack the last letter. */
struct us_handover_tail {
	uint64_t lib_hash;
	char audit;  /* 'a' or 'n' */
	char loader; /* 'l', 'q', or 0 when the tail has none */
};

#define US_HANDOVER_TAIL_MAX 24 /* bytes us_handover_tail_write writes */

/* Write tail T into OUT (US_HANDOVER_TAIL_MAX bytes), NUL-ended. */
void us_handover_tail_write(char *out, const struct us_handover_tail *t);

/* Read the tail at TAIL (the record's ' ' on): false when it is none. */
bool us_handover_tail_read(const char *tail, struct us_handover_tail *t);

/* Was REC (may be NULL) made for SPEC's exact text? (It may still be
 * stale: us_config_load checks its dirs.) */
bool us_handover_for(const char *spec, const char *rec);

/* Fill CFG from SPEC using record REC (may be NULL): 1 when the record was
 * adopted, 0 when CFG was parsed and validated in full, -1 with a one-line
 * ERR when the configuration is bad. */
int us_config_load(const char *spec, const char *rec, struct us_config *cfg,
		   char *err, size_t errlen);

#endif
