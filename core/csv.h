/*
 * csv.h — the CSV reader every part of the core uses for task data,
 * sample submissions, answers and candidate submissions.
 *
 * The dialect is RFC 4180 as Kaggle writes it: comma-separated, fields
 * optionally quoted with '"', a quote inside a quoted field doubled ("").
 * Quoted fields may hold commas, quotes and line breaks.  Records end with
 * LF, CRLF or a lone CR.  A UTF-8 byte-order mark before the header is
 * skipped.  Blank lines are skipped (as pandas does).  The first record is
 * the header; every later record must have as many fields as the header,
 * otherwise reading stops with an error naming the line.  A NUL byte, a
 * quoted field that never closes or a character right after a closing
 * quote is an error too.  Fields are never trimmed.
 *
 * Two ways to read:
 *   - aml_csv_open() streams a file row by row in bounded memory (train
 *     files may be large);
 *   - aml_csv_load() reads a whole small file (sample, answers,
 *     submission) into columns of strings.
 *
 * Also here: strict number parsing for cell values, the missing-value
 * spellings, and aml_csv_map, a string-keyed hash map used for ids and
 * distinct label values.
 *
 * Errors follow util.h: an int status and one line in a caller-owned
 * buffer, "<file>:<line>: <problem>" when a line is known.
 */
#ifndef AML_CSV_H
#define AML_CSV_H

#include <stddef.h>

/* A record (a row, with its line breaks in quoted fields) longer than
 * this is refused: no real data file has one, a binary file might. */
#define AML_CSV_MAX_RECORD (64u << 20)

/* ------------------------------------------------------------------ */
/* Streaming reader.                                                   */

typedef struct aml_csv aml_csv;

/* Open a file and read its header.  *out is transferred (aml_csv_close).
 * Returns AML_OK; AML_ENOTFOUND when the file does not exist; AML_EIO when
 * it cannot be read; AML_EFORMAT when the header is missing (empty file)
 * or garbled. */
int aml_csv_open(const char *path, aml_csv **out, char *err, size_t errlen);

/* The same over a memory buffer (borrowed: it must outlive the reader).
 * name is used in messages. */
int aml_csv_open_mem(const char *name, const char *data, size_t len,
		     aml_csv **out, char *err, size_t errlen);

/* The header: ncols names, borrowed until aml_csv_close(). */
size_t aml_csv_ncols(const aml_csv *r);
const char *const *aml_csv_header(const aml_csv *r);

/* Read the next data row.  Returns 1 and points *fields at ncols strings
 * (borrowed, valid until the next call); 0 at the end of the file; a
 * negative status (AML_EFORMAT, AML_EIO, AML_ENOMEM) with err set.  After
 * an error the reader only returns that error again. */
int aml_csv_next(aml_csv *r, const char *const **fields,
		 char *err, size_t errlen);

/* The 1-based line on which the last row returned began. */
size_t aml_csv_line(const aml_csv *r);
/* Data rows returned so far. */
size_t aml_csv_rows(const aml_csv *r);

void aml_csv_close(aml_csv *r);

/* ------------------------------------------------------------------ */
/* Whole tables.                                                       */

typedef struct aml_csv_arena aml_csv_arena; /* private */

/* A CSV file held in memory.  Every string is owned by the table. */
typedef struct aml_csv_table {
	char *name;        /* the path (or name) it was read from */
	size_t ncols;
	size_t nrows;      /* data rows, without the header */
	char **header;     /* ncols names */
	char ***cols;      /* cols[c][r]: the cell of column c, row r */
	size_t *lines;     /* lines[r]: the line on which row r begins */
	aml_csv_arena *arena;
} aml_csv_table;

/* Read a whole file.  Files larger than max_bytes (0: no limit) are
 * refused with AML_EFORMAT.  *out is transferred (aml_csv_table_free).
 * Statuses as aml_csv_open(). */
int aml_csv_load(const char *path, size_t max_bytes, aml_csv_table **out,
		 char *err, size_t errlen);
/* The same over a memory buffer (read once, not kept). */
int aml_csv_load_mem(const char *name, const char *data, size_t len,
		     aml_csv_table **out, char *err, size_t errlen);
void aml_csv_table_free(aml_csv_table *t);

/* The index of the column called name, or -1. */
long aml_csv_column(const aml_csv_table *t, const char *name);
/* 1 when the table's header names a column twice; *dup (may be NULL) is
 * set to the first name seen twice (borrowed). */
int aml_csv_has_duplicate_column(const aml_csv_table *t, const char **dup);
/* 1 when column c has at least one value and every value is a number
 * (missing values, see aml_csv_is_missing, are not allowed). */
int aml_csv_column_is_numeric(const aml_csv_table *t, size_t c);

/* ------------------------------------------------------------------ */
/* Cell values.                                                        */

/* Parse a cell as a finite number: optional sign, digits with an optional
 * decimal point, optional exponent; surrounding blanks allowed.  "nan",
 * "inf", hex and empty strings are not numbers.  0 on success, -1 not. */
int aml_csv_number(const char *s, double *out);
/* 1 when s spells a missing value: "", "NA", "N/A", "NaN", "nan", "null",
 * "NULL", "None" (blanks around them allowed). */
int aml_csv_is_missing(const char *s);
/* 1 when the cell is a number with no fractional part. */
int aml_csv_is_integer(const char *s);

/* ------------------------------------------------------------------ */
/* A hash map from strings to size_t (ids to rows, labels to counts).  */

typedef struct aml_csv_map aml_csv_map;

/* A new empty map (transferred, aml_csv_map_free), NULL on oom. */
aml_csv_map *aml_csv_map_new(void);
/* Add key (copied) with value when absent.  Returns 1 when added, 0 when
 * the key was already there (its value then goes to *old when old is not
 * NULL, and is left unchanged), AML_ENOMEM on allocation failure. */
int aml_csv_map_add(aml_csv_map *m, const char *key, size_t value, size_t *old);
/* 1 and *value (may be NULL) when key is present, else 0. */
int aml_csv_map_get(const aml_csv_map *m, const char *key, size_t *value);
/* Set the value of a present key; no-op when absent. */
void aml_csv_map_set(aml_csv_map *m, const char *key, size_t value);
/* Number of keys, and the i-th key / value in insertion order
 * (borrowed, valid until the map is freed). */
size_t aml_csv_map_count(const aml_csv_map *m);
const char *aml_csv_map_key(const aml_csv_map *m, size_t i);
size_t aml_csv_map_value(const aml_csv_map *m, size_t i);
void aml_csv_map_free(aml_csv_map *m);

#endif
