/*
 * util.h - clocks, identifiers and small text helpers shared by every module.
 */
#ifndef OA_CORE_UTIL_H
#define OA_CORE_UTIL_H

#include "common.h"

#include <sys/types.h>
#include <time.h>

/* Milliseconds of CLOCK_MONOTONIC: for timeouts and rates, never shown to users. */
int64_t oa_mono_ms(void);
/* Microseconds of CLOCK_MONOTONIC. */
int64_t oa_mono_us(void);
/* Milliseconds since the Unix epoch (wall clock). */
int64_t oa_wall_ms(void);

/* Formats t as "yyyy-MM-ddTHH:mm:ssZ" (UTC); out needs 21 bytes. */
void oa_time_iso(time_t t, char out[21]);
/*
 * Parses "yyyy-MM-ddTHH:mm:ssZ" (also accepts fractional seconds and a
 * missing 'Z', as the API's clients vary). Returns 0 and sets *t, or -1.
 */
int oa_time_parse_iso(const char *s, time_t *t);

/* Fills p with n cryptographically random bytes (OpenSSL). */
void oa_random_bytes(void *p, size_t n);
/* An upper-case UUID "XXXXXXXX-XXXX-4XXX-YXXX-XXXXXXXXXXXX"; out needs 37 bytes. */
void oa_uuid(char out[37]);
/* The same, lower case. */
void oa_uuid_lower(char out[37]);
/* 2n lower-case hex characters of n random bytes; out needs 2n+1 bytes. */
void oa_random_hex(char *out, size_t n);
void oa_hex(const void *p, size_t n, char *out);

/*
 * Parses a decimal integer in [min, max] from the whole of s (optional sign,
 * no spaces). Returns 0 and sets *out, or -1.
 */
int oa_parse_int(const char *s, long long min, long long max, long long *out);
/* Parses a finite decimal floating-point number from the whole of s. */
int oa_parse_double(const char *s, double *out);

/* snprintf into a fixed buffer; returns 0, or -1 if it did not fit. */
int oa_snprintf(char *out, size_t outlen, const char *fmt, ...) OA_PRINTF(3, 4);

/* Copies at most outlen-1 bytes of s and NUL-terminates. */
void oa_strlcpy(char *out, const char *s, size_t outlen);

/* Case-insensitive ASCII comparison. */
bool oa_strcaseeq(const char *a, const char *b);
bool oa_str_has_suffix(const char *s, const char *suffix);

/*
 * Decodes one UTF-8 character at s[0..n): returns its length and sets *cp,
 * or returns 0 for an ill-formed sequence (overlong, surrogate, > U+10FFFF,
 * truncated).
 */
size_t oa_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* mkdir -p: creates path and the directories above it; 0 or -errno. */
int oa_mkdirs(const char *path, mode_t mode);

/* Sets O_NONBLOCK and FD_CLOEXEC; returns 0 or -errno. */
int oa_fd_nonblock(int fd);

#endif
