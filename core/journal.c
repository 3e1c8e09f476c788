/*
 * journal.c — see journal.h.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal.h"
#include "log.h"
#include "util.h"

struct aml_journal {
	int fd;
	int failed;
	char *path;
	pthread_mutex_t lock;
};

int
aml_journal_open(const char *path, aml_journal **out, char *err, size_t errlen)
{
	aml_journal *j = calloc(1, sizeof *j);

	*out = NULL;
	if (j == NULL || (j->path = strdup(path)) == NULL) {
		free(j);
		return AML_ENOMEM;
	}
	j->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (j->fd < 0) {
		aml_seterr(err, errlen, "cannot open the journal %s: %s", path, strerror(errno));
		free(j->path);
		free(j);
		return AML_EIO;
	}
	pthread_mutex_init(&j->lock, NULL);
	*out = j;
	return AML_OK;
}

int
aml_journal_append(aml_journal *j, json_object *ev)
{
	return aml_journal_append_n(j, &ev, 1);
}

int
aml_journal_append_n(aml_journal *j, json_object *const *evs, size_t n)
{
	size_t len = 0, done = 0, i;
	char *line;
	int rc = AML_OK;

	for (i = 0; i < n; i++)
		len += strlen(json_object_to_json_string_ext(evs[i], JSON_C_TO_STRING_PLAIN)) + 1;
	if ((line = malloc(len + 1)) == NULL)
		return AML_ENOMEM;
	for (i = 0, len = 0; i < n; i++) {
		const char *text = json_object_to_json_string_ext(evs[i], JSON_C_TO_STRING_PLAIN);
		size_t l = strlen(text);

		memcpy(line + len, text, l);
		len += l;
		line[len++] = '\n';
	}
	pthread_mutex_lock(&j->lock);
	if (j->failed) {
		rc = AML_EIO;
		goto out;
	}
	/* one write() of the whole line with O_APPEND: readers never see
	 * two events interleaved, at worst the last one cut short */
	while (done < len) {
		ssize_t w = write(j->fd, line + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	if (done < len || fdatasync(j->fd) != 0) {
		j->failed = 1;
		rc = AML_EIO;
		aml_warn("journal %s: %s; the run goes on without it", j->path,
			 done < len ? "cannot write" : strerror(errno));
	}
out:
	pthread_mutex_unlock(&j->lock);
	free(line);
	return rc;
}

int
aml_journal_repair(const char *path, size_t *cut, char *err, size_t errlen)
{
	char *text = NULL, *last;
	size_t len = 0, keep;
	json_object *ev;
	int rc;

	if (cut)
		*cut = 0;
	rc = aml_read_file(path, 0, &text, &len, err, errlen);
	if (rc != AML_OK)
		return rc;
	keep = len;
	while (keep > 0 && text[keep - 1] != '\n')
		keep--;
	if (keep == len && keep > 0) {
		/* whole last line: keep it if it parses */
		text[keep - 1] = '\0';
		last = strrchr(text, '\n');
		last = last ? last + 1 : text;
		ev = last[0] ? json_tokener_parse(last) : NULL;
		if (last[0] && (ev == NULL || !json_object_is_type(ev, json_type_object)))
			keep = (size_t)(last - text);
		json_object_put(ev);
	}
	free(text);
	if (keep < len && truncate(path, (off_t)keep) != 0) {
		aml_seterr(err, errlen, "cannot cut the torn last line of %s: %s", path,
			   strerror(errno));
		return AML_EIO;
	}
	if (cut)
		*cut = len - keep;
	return AML_OK;
}

void
aml_journal_close(aml_journal *j)
{
	if (j == NULL)
		return;
	close(j->fd);
	pthread_mutex_destroy(&j->lock);
	free(j->path);
	free(j);
}

int
aml_journal_read(const char *path, int (*fn)(json_object *ev, void *ctx), void *ctx,
		 size_t *torn, char *err, size_t errlen)
{
	char *text = NULL, *p, *nl;
	size_t len = 0, lineno = 0;
	int rc;

	if (torn)
		*torn = 0;
	rc = aml_read_file(path, 0, &text, &len, err, errlen);
	if (rc != AML_OK)
		return rc;
	for (p = text; p < text + len; p = nl + 1) {
		json_object *ev;

		lineno++;
		nl = memchr(p, '\n', (size_t)(text + len - p));
		if (nl == NULL) { /* the last write was cut short */
			if (torn)
				(*torn)++;
			break;
		}
		*nl = '\0';
		if (p == nl)
			continue;
		ev = json_tokener_parse(p);
		if (ev == NULL || !json_object_is_type(ev, json_type_object)) {
			json_object_put(ev);
			if (nl + 1 >= text + len) { /* a torn last line */
				if (torn)
					(*torn)++;
				break;
			}
			aml_seterr(err, errlen, "%s:%zu: not a JSON object", path, lineno);
			free(text);
			return AML_EFORMAT;
		}
		rc = fn(ev, ctx);
		json_object_put(ev);
		if (rc != 0)
			break;
	}
	free(text);
	return rc;
}
