/*
 * rundir.c — see rundir.h.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "rundir.h"
#include "util.h"

int
aml_rundir_create(const aml_config *cfg, const char *task_name,
		  aml_rundir *rd, char *err, size_t errlen)
{
	const char *parent = aml_config_get(cfg, "run.dir");
	const char *name = aml_config_get(cfg, "run.name");
	char stamp[32], *base, *path = NULL;
	time_t now = time(NULL);
	struct tm tm;
	int i, rc;

	memset(rd, 0, sizeof *rd);
	if (parent == NULL || parent[0] == '\0')
		parent = "runs";
	rc = aml_mkdirs(parent, err, errlen);
	if (rc != AML_OK)
		return rc;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
	for (i = 0; i < 1000; i++) {
		aml_sb b = {0};

		if (name && name[0])
			aml_sb_printf(&b, "%s/%s", parent, name);
		else
			aml_sb_printf(&b, "%s/%s-%s", parent, task_name, stamp);
		if (i)
			aml_sb_printf(&b, "-%d", i);
		if (b.oom)
			return AML_ENOMEM;
		if (mkdir(b.s, 0755) == 0) {
			path = aml_sb_take(&b);
			break;
		}
		if (errno != EEXIST) {
			aml_seterr(err, errlen, "cannot create run directory %s: %s", b.s,
				   strerror(errno));
			aml_sb_free(&b);
			return AML_EIO;
		}
		if (name && name[0]) {
			aml_seterr(err, errlen, "run directory %s already exists; pick another run.name",
				   b.s);
			aml_sb_free(&b);
			return AML_EINVAL;
		}
		aml_sb_free(&b);
	}
	if (path == NULL) {
		aml_seterr(err, errlen, "cannot find a free run directory name under %s", parent);
		return AML_EIO;
	}
	rd->path = aml_path_abs(path);
	free(path);
	if (rd->path == NULL)
		return AML_ENOMEM;
	rd->input = aml_path_join(rd->path, "input");
	base = rd->path ? aml_path_join(rd->path, "nodes") : NULL;
	if (rd->input == NULL || base == NULL) {
		free(base);
		aml_rundir_destroy(rd);
		return AML_ENOMEM;
	}
	rc = aml_mkdirs(base, err, errlen);
	free(base);
	if (rc != AML_OK)
		aml_rundir_destroy(rd);
	return rc;
}

int
aml_rundir_open(const char *path, aml_rundir *rd, char *err, size_t errlen)
{
	memset(rd, 0, sizeof *rd);
	if (!aml_is_dir(path)) {
		aml_seterr(err, errlen, "%s: no such run directory", path);
		return AML_ENOTFOUND;
	}
	rd->path = aml_path_abs(path);
	rd->input = rd->path ? aml_path_join(rd->path, "input") : NULL;
	if (rd->input == NULL) {
		aml_rundir_destroy(rd);
		return AML_ENOMEM;
	}
	return AML_OK;
}

void
aml_rundir_destroy(aml_rundir *rd)
{
	free(rd->path);
	free(rd->input);
	memset(rd, 0, sizeof *rd);
}

/* Does path resolve to forbidden or below it? */
static int
leads_into(const char *path, const char *forbidden)
{
	char *real;
	size_t n;
	int in;

	if (forbidden == NULL)
		return 0;
	real = aml_path_abs(path);
	if (real == NULL)
		return 0;
	n = strlen(forbidden);
	in = strncmp(real, forbidden, n) == 0 && (real[n] == '\0' || real[n] == '/');
	free(real);
	return in;
}

/* Copy the tree under src into dst; regular files become read-only. */
static int
copy_tree(const char *src, const char *dst, const char *forbidden, int depth,
	  char *err, size_t errlen)
{
	struct dirent *de;
	DIR *d;
	int rc = AML_OK;

	if (depth > 16) {
		aml_seterr(err, errlen, "%s: folders nested too deeply", src);
		return AML_EINVAL;
	}
	rc = aml_mkdirs(dst, err, errlen);
	if (rc != AML_OK)
		return rc;
	d = opendir(src);
	if (d == NULL) {
		aml_seterr(err, errlen, "%s: %s", src, strerror(errno));
		return AML_EIO;
	}
	while (rc == AML_OK && (de = readdir(d)) != NULL) {
		char *s, *t;
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		s = aml_path_join(src, de->d_name);
		t = aml_path_join(dst, de->d_name);
		if (s == NULL || t == NULL) {
			rc = AML_ENOMEM;
		} else if (leads_into(s, forbidden)) {
			aml_warn("not staged for candidates: %s leads into the task's private folder", s);
		} else if (stat(s, &st) != 0) {
			/* a dangling link: nothing to copy */
		} else if (S_ISDIR(st.st_mode)) {
			rc = copy_tree(s, t, forbidden, depth + 1, err, errlen);
		} else if (S_ISREG(st.st_mode)) {
			rc = aml_copy_file(s, t, err, errlen);
			if (rc == AML_OK)
				chmod(t, 0444);
		}
		free(s);
		free(t);
	}
	closedir(d);
	return rc;
}

int
aml_rundir_stage_input(aml_rundir *rd, const char *public_dir,
		       const char *forbidden, char *err, size_t errlen)
{
	char *real = forbidden ? aml_path_abs(forbidden) : NULL;
	int rc = copy_tree(public_dir, rd->input, real, 0, err, errlen);

	free(real);
	return rc;
}

int
aml_rundir_node_dir(const aml_rundir *rd, uint32_t id, char **dir,
		    char *err, size_t errlen)
{
	aml_sb b = {0};
	char *sub;
	int rc;

	*dir = NULL;
	aml_sb_printf(&b, "%s/nodes/%04u", rd->path, (unsigned)id);
	if (b.oom)
		return AML_ENOMEM;
	rc = aml_mkdirs(b.s, err, errlen);
	if (rc == AML_OK) {
		sub = aml_path_join(b.s, "working");
		rc = sub ? aml_mkdirs(sub, err, errlen) : AML_ENOMEM;
		free(sub);
	}
	if (rc == AML_OK) {
		sub = aml_path_join(b.s, "submission");
		rc = sub ? aml_mkdirs(sub, err, errlen) : AML_ENOMEM;
		free(sub);
	}
	if (rc == AML_OK) {
		sub = aml_path_join(b.s, "input");
		if (sub == NULL) {
			rc = AML_ENOMEM;
		} else if (symlink("../../input", sub) != 0 && errno != EEXIST) {
			aml_seterr(err, errlen, "%s: %s", sub, strerror(errno));
			rc = AML_EIO;
		}
		free(sub);
	}
	if (rc != AML_OK) {
		aml_sb_free(&b);
		return rc;
	}
	*dir = aml_sb_take(&b);
	return *dir ? AML_OK : AML_ENOMEM;
}

int
aml_rundir_write(const aml_rundir *rd, const char *rel, const char *data,
		 size_t len, char *err, size_t errlen)
{
	char *p = aml_path_join(rd->path, rel);
	int rc;

	if (p == NULL)
		return AML_ENOMEM;
	rc = aml_write_file(p, data, len, err, errlen);
	free(p);
	return rc;
}

int
aml_rundir_write_node(const aml_rundir *rd, const aml_node *n,
		      char *err, size_t errlen)
{
	json_object *o = json_object_new_object();
	char rel[64];
	const char *text;
	int rc;

	if (o == NULL)
		return AML_ENOMEM;
	json_object_object_add(o, "id", json_object_new_int((int)n->id));
	json_object_object_add(o, "parent", json_object_new_int(n->parent));
	json_object_object_add(o, "branch", json_object_new_int((int)n->branch));
	json_object_object_add(o, "operator", json_object_new_string(n->op));
	json_object_object_add(o, "mode", json_object_new_string(n->mode));
	json_object_object_add(o, "status", json_object_new_string(aml_node_status_name(n->status)));
	json_object_object_add(o, "reason", json_object_new_string(n->reason));
	json_object_object_add(o, "flags", json_object_new_string(n->flags ? n->flags : ""));
	if (n->review)
		json_object_object_add(o, "review", json_object_new_string(n->review));
	json_object_object_add(o, "outcome",
			       json_object_new_string(n->code ? aml_exec_outcome_name(n->outcome) : "not_run"));
	json_object_object_add(o, "exit_code", json_object_new_int(n->exit_code));
	if (n->cached_from >= 0)
		json_object_object_add(o, "cached_from", json_object_new_int(n->cached_from));
	json_object_object_add(o, "score", n->has_score ? json_object_new_double(n->score) : NULL);
	json_object_object_add(o, "output_truncated", json_object_new_boolean(n->truncated));
	json_object_object_add(o, "operator_seconds", json_object_new_double(n->op_seconds));
	json_object_object_add(o, "exec_seconds", json_object_new_double(n->exec_seconds));
	json_object_object_add(o, "created_at", json_object_new_double(n->created_at));
	json_object_object_add(o, "tokens_in", json_object_new_int64((int64_t)n->tokens_in));
	json_object_object_add(o, "tokens_out", json_object_new_int64((int64_t)n->tokens_out));
	json_object_object_add(o, "plan", json_object_new_string(n->plan));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	snprintf(rel, sizeof rel, "nodes/%04u/node.json", (unsigned)n->id);
	rc = aml_rundir_write(rd, rel, text, strlen(text), err, errlen);
	if (rc == AML_OK && n->raw_answer) {
		snprintf(rel, sizeof rel, "nodes/%04u/answer.txt", (unsigned)n->id);
		rc = aml_rundir_write(rd, rel, n->raw_answer, strlen(n->raw_answer), err, errlen);
	}
	json_object_put(o);
	return rc;
}
