/*
 * util.c — see util.h.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

void
aml_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

const char *
aml_strerror(int status)
{
	switch (status) {
	case AML_OK: return "ok";
	case AML_EINVAL: return "invalid input";
	case AML_ENOMEM: return "out of memory";
	case AML_EIO: return "I/O error";
	case AML_ENOTFOUND: return "not found";
	case AML_ETIMEDOUT: return "timed out";
	case AML_EUNSUPPORTED: return "unsupported";
	case AML_EFORMAT: return "wrong format";
	case AML_EBUDGET: return "budget spent";
	case AML_ECANCELED: return "canceled";
	case AML_EPROTO: return "protocol error";
	case AML_EPLUGIN: return "plugin error";
	case AML_EABI: return "ABI mismatch";
	}
	return "unknown error";
}

static int
sb_grow(aml_sb *b, size_t need)
{
	size_t cap;
	char *p;

	if (b->oom)
		return -1;
	if (b->len + need + 1 <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < b->len + need + 1) {
		if (cap > SIZE_MAX / 2) {
			b->oom = 1;
			return -1;
		}
		cap *= 2;
	}
	p = realloc(b->s, cap);
	if (p == NULL) {
		b->oom = 1;
		return -1;
	}
	b->s = p;
	b->cap = cap;
	return 0;
}

void
aml_sb_add(aml_sb *b, const char *s, size_t n)
{
	if (sb_grow(b, n) != 0)
		return;
	if (n)
		memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void
aml_sb_puts(aml_sb *b, const char *s)
{
	aml_sb_add(b, s, strlen(s));
}

void
aml_sb_vprintf(aml_sb *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0 || sb_grow(b, (size_t)n) != 0)
		return;
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void
aml_sb_printf(aml_sb *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	aml_sb_vprintf(b, fmt, ap);
	va_end(ap);
}

char *
aml_sb_take(aml_sb *b)
{
	char *s;

	if (b->oom) {
		aml_sb_free(b);
		return NULL;
	}
	if (b->s == NULL)
		return strdup("");
	s = b->s;
	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

void
aml_sb_free(aml_sb *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
	b->oom = 0;
}

int
aml_read_file(const char *path, size_t max, char **out, size_t *len,
	      char *err, size_t errlen)
{
	aml_sb b = {0};
	char buf[65536];
	FILE *f;
	size_t n;

	*out = NULL;
	f = fopen(path, "rb");
	if (f == NULL) {
		aml_seterr(err, errlen, "%s: %s", path, strerror(errno));
		return errno == ENOENT ? AML_ENOTFOUND : AML_EIO;
	}
	while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
		if (max && b.len + n > max) {
			fclose(f);
			aml_sb_free(&b);
			aml_seterr(err, errlen, "%s: larger than %zu bytes", path, max);
			return AML_EINVAL;
		}
		aml_sb_add(&b, buf, n);
	}
	if (ferror(f)) {
		fclose(f);
		aml_sb_free(&b);
		aml_seterr(err, errlen, "%s: read error", path);
		return AML_EIO;
	}
	fclose(f);
	if (len)
		*len = b.len;
	*out = aml_sb_take(&b);
	if (*out == NULL) {
		aml_seterr(err, errlen, "%s: out of memory", path);
		return AML_ENOMEM;
	}
	return AML_OK;
}

int
aml_write_file(const char *path, const char *data, size_t len,
	       char *err, size_t errlen)
{
	aml_sb tmp = {0};
	FILE *f;
	int rc = AML_OK;

	aml_sb_printf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	if (tmp.oom) {
		aml_sb_free(&tmp);
		return AML_ENOMEM;
	}
	f = fopen(tmp.s, "wb");
	if (f == NULL) {
		aml_seterr(err, errlen, "%s: %s", path, strerror(errno));
		aml_sb_free(&tmp);
		return AML_EIO;
	}
	if ((len && fwrite(data, 1, len, f) != len) || fflush(f) != 0
	    || fsync(fileno(f)) != 0) {
		aml_seterr(err, errlen, "%s: %s", path, strerror(errno));
		rc = AML_EIO;
	}
	if (fclose(f) != 0 && rc == AML_OK) {
		aml_seterr(err, errlen, "%s: %s", path, strerror(errno));
		rc = AML_EIO;
	}
	if (rc == AML_OK && rename(tmp.s, path) != 0) {
		aml_seterr(err, errlen, "%s: %s", path, strerror(errno));
		rc = AML_EIO;
	}
	if (rc != AML_OK)
		unlink(tmp.s);
	aml_sb_free(&tmp);
	return rc;
}

char *
aml_path_join(const char *a, const char *b)
{
	aml_sb s = {0};
	size_t la = strlen(a);

	if (b[0] == '/' || la == 0)
		return strdup(b);
	aml_sb_puts(&s, a);
	if (a[la - 1] != '/')
		aml_sb_puts(&s, "/");
	aml_sb_puts(&s, b);
	return aml_sb_take(&s);
}

char *
aml_path_base(const char *path)
{
	size_t end = strlen(path), start;

	while (end > 1 && path[end - 1] == '/')
		end--;
	start = end;
	while (start > 0 && path[start - 1] != '/')
		start--;
	return strndup(path + start, end - start);
}

char *
aml_path_abs(const char *path)
{
	return realpath(path, NULL);
}

int
aml_mkdirs(const char *path, char *err, size_t errlen)
{
	char *p = strdup(path), *q;

	if (p == NULL)
		return AML_ENOMEM;
	for (q = p + 1; *q; q++) {
		if (*q != '/')
			continue;
		*q = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST) {
			aml_seterr(err, errlen, "cannot create %s: %s", p, strerror(errno));
			free(p);
			return AML_EIO;
		}
		*q = '/';
	}
	if (mkdir(p, 0755) != 0 && errno != EEXIST) {
		aml_seterr(err, errlen, "cannot create %s: %s", p, strerror(errno));
		free(p);
		return AML_EIO;
	}
	free(p);
	if (!aml_is_dir(path)) {
		aml_seterr(err, errlen, "%s exists and is not a directory", path);
		return AML_EIO;
	}
	return AML_OK;
}

int
aml_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int
aml_is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int
aml_copy_file(const char *src, const char *dst, char *err, size_t errlen)
{
	char buf[65536];
	ssize_t n;
	int in, out, rc = AML_OK;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		aml_seterr(err, errlen, "%s: %s", src, strerror(errno));
		return AML_EIO;
	}
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		aml_seterr(err, errlen, "%s: %s", dst, strerror(errno));
		close(in);
		return AML_EIO;
	}
	while ((n = read(in, buf, sizeof buf)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = AML_EIO;
			break;
		}
		if (write(out, buf, (size_t)n) != n) {
			rc = AML_EIO;
			break;
		}
	}
	if (rc != AML_OK)
		aml_seterr(err, errlen, "copying %s to %s: %s", src, dst, strerror(errno));
	close(in);
	if (close(out) != 0 && rc == AML_OK) {
		aml_seterr(err, errlen, "%s: %s", dst, strerror(errno));
		rc = AML_EIO;
	}
	return rc;
}

char *
aml_strdup0(const char *s)
{
	return s ? strdup(s) : NULL;
}

char *
aml_trim(char *s)
{
	char *b = s, *e;

	while (isspace((unsigned char)*b))
		b++;
	if (b != s)
		memmove(s, b, strlen(b) + 1);
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int
aml_strcasestr_has(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	if (n == 0)
		return 1;
	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return 1;
	return 0;
}

int
aml_parse_double(const char *s, double *out)
{
	char *end;
	double v;

	if (s == NULL)
		return -1;
	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	while (isspace((unsigned char)*end))
		end++;
	if (*end != '\0' || errno == ERANGE)
		return -1;
	*out = v;
	return 0;
}

int
aml_parse_long(const char *s, long *out)
{
	char *end;
	long v;

	if (s == NULL)
		return -1;
	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	while (isspace((unsigned char)*end))
		end++;
	if (*end != '\0' || errno == ERANGE)
		return -1;
	*out = v;
	return 0;
}

int
aml_parse_bool(const char *s, int *out)
{
	static const char *yes[] = {"1", "true", "yes", "on"};
	static const char *no[] = {"0", "false", "no", "off"};
	size_t i;

	if (s == NULL)
		return -1;
	for (i = 0; i < AML_ARRAY_LEN(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

double
aml_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
