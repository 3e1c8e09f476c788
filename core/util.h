/*
 * util.h — small helpers every part of the core shares: a growable string
 * buffer, whole-file I/O, paths and directories, and status names.
 *
 * Error convention (all of core/): functions return an int status, 0 on
 * success or a negative AML_E* code, and write one human line into a
 * caller-owned buffer (err, errlen) when they fail.
 */
#ifndef AML_UTIL_H
#define AML_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <automlgen/plugin.h>

#define AML_ERRLEN 512

/* Write a formatted line into a caller-owned buffer; no-op when err is NULL. */
void aml_seterr(char *err, size_t errlen, const char *fmt, ...) AML_PRINTF(3, 4);

/* The name of a status code, e.g. "AML_ENOTFOUND" -> "not found". */
const char *aml_strerror(int status);

/* A growable NUL-terminated byte buffer.  Zero-initialise before use;
 * release with aml_sb_free().  On allocation failure the buffer sets
 * .oom and further appends are ignored; check it once at the end. */
typedef struct aml_sb {
	char *s;
	size_t len;
	size_t cap;
	int oom;
} aml_sb;

void aml_sb_add(aml_sb *b, const char *s, size_t n);
void aml_sb_puts(aml_sb *b, const char *s);
void aml_sb_printf(aml_sb *b, const char *fmt, ...) AML_PRINTF(2, 3);
void aml_sb_vprintf(aml_sb *b, const char *fmt, va_list ap);
/* Detach the string (transferred to the caller, never NULL unless oom). */
char *aml_sb_take(aml_sb *b);
void aml_sb_free(aml_sb *b);

/* Read a whole file into a NUL-terminated buffer (transferred).  *len may
 * be NULL.  Refuses files larger than max bytes (0: no limit). */
int aml_read_file(const char *path, size_t max, char **out, size_t *len,
		  char *err, size_t errlen);
/* Write a file through a temporary and rename(), so readers never see a
 * half-written file. */
int aml_write_file(const char *path, const char *data, size_t len,
		   char *err, size_t errlen);

/* Join two path parts with one '/' (transferred, NULL on oom). */
char *aml_path_join(const char *a, const char *b);
/* The last component of a path, without trailing slashes (transferred). */
char *aml_path_base(const char *path);
/* An absolute, symlink-resolved path (transferred), NULL when it does not
 * exist. */
char *aml_path_abs(const char *path);
/* mkdir -p with mode 0755. */
int aml_mkdirs(const char *path, char *err, size_t errlen);
/* 1 when path is a directory / a regular file. */
int aml_is_dir(const char *path);
int aml_is_file(const char *path);
/* Copy one regular file (contents and mode bits masked by mode_mask). */
int aml_copy_file(const char *src, const char *dst, char *err, size_t errlen);

/* strdup that returns NULL for NULL. */
char *aml_strdup0(const char *s);
/* Trim ASCII white space in place; returns s. */
char *aml_trim(char *s);
/* Case-insensitive ASCII "contains". */
int aml_strcasestr_has(const char *hay, const char *needle);
/* Parse a whole string as a number; 0 on success. */
int aml_parse_double(const char *s, double *out);
int aml_parse_long(const char *s, long *out);
/* Parse yes/no/true/false/on/off/1/0; 0 on success. */
int aml_parse_bool(const char *s, int *out);

/* Seconds since an arbitrary fixed point (CLOCK_MONOTONIC). */
double aml_now(void);

/* free() and NULL the pointer. */
#define AML_FREE(p) do { free(p); (p) = NULL; } while (0)
#define AML_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
