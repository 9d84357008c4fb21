/*
 * alloc.h - allocation that never returns NULL.
 *
 * Small allocations abort the process on failure (as redis' zmalloc does), so
 * callers never check for NULL. Sizes that come from the network must be
 * checked against a configured cap *before* they reach these functions.
 */
#ifndef OA_CORE_ALLOC_H
#define OA_CORE_ALLOC_H

#include <stddef.h>

void *oa_malloc(size_t n);
void *oa_calloc(size_t count, size_t n);
void *oa_realloc(void *p, size_t n);
char *oa_strdup(const char *s);
char *oa_strndup(const char *s, size_t n);
/* Duplicates n bytes of p. */
void *oa_memdup(const void *p, size_t n);
void oa_free(void *p);

#endif
