/*
 * cmd_kb.c — `automlgen kb list|show|search`: the knowledge base as a run
 * would load it (kbload.h: AUTOMLGEN_KB_PATH, kb.path, the plugin path's
 * packs; the module check under the executor's interpreter; the packs'
 * retrievers), listed, shown entry by entry, or searched with the scores.
 */
#include "config.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_args.h"
#include "host.h"
#include "kb.h"
#include "kbload.h"
#include "log.h"
#include "registry.h"
#include "task.h"
#include "util.h"

#define KB_SEARCH_DEFAULT_K 10

static void
kb_usage(FILE *f)
{
	fputs("usage: automlgen kb list [--level L]\n"
	      "       automlgen kb show ID\n"
	      "       automlgen kb search QUERY... [--task DIR] [--level L] [-k N]\n"
	      "  common options: [--all] [--json] [--config FILE] [-o key=value]... [-v]\n"
	      "  list    one line per entry: id, level, pack, title (load order)\n"
	      "  show    every field of one entry\n"
	      "  search  entries ranked for QUERY with their BM25 score (-k, default 10;\n"
	      "          0: all); --task keeps the entries that fit the task folder DIR\n"
	      "  L is model, data or strategy.  Packs load as in a run: AUTOMLGEN_KB_PATH,\n"
	      "  kb.path, then the kb packs on the plugin path (kb.enabled is ignored).\n"
	      "  Entries whose Python modules the executor's interpreter (executor.python)\n"
	      "  cannot import are left out, as in a run; --all keeps them (no check).\n", f);
}

/* The options only kb takes; the rest go to aml_cli_parse. */
typedef struct kb_opts {
	const char *level;
	const char *task_dir;
	size_t k;
	int k_set;
	int all;
} kb_opts;

static int
take_opts(int argc, char **argv, kb_opts *o, char **rest, int *n_rest)
{
	long k;
	int i;

	*n_rest = 0;
	rest[(*n_rest)++] = argv[0];
	for (i = 1; i < argc; i++) {
		const char *s = argv[i];
		int has_arg = strcmp(s, "--level") == 0 || strcmp(s, "--task") == 0
			|| strcmp(s, "-k") == 0;

		if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
			kb_usage(stdout);
			return 0;
		}
		if (has_arg && i + 1 >= argc) {
			fprintf(stderr, "automlgen kb: %s needs a value\n", s);
			return 2;
		}
		if (strcmp(s, "--level") == 0) {
			o->level = argv[++i];
		} else if (strcmp(s, "--task") == 0) {
			o->task_dir = argv[++i];
		} else if (strcmp(s, "-k") == 0) {
			if (aml_parse_long(argv[++i], &k) != 0 || k < 0) {
				fprintf(stderr, "automlgen kb: -k must be a non-negative "
					"integer, got '%s'\n", argv[i]);
				return 2;
			}
			o->k = (size_t)k;
			o->k_set = 1;
		} else if (strcmp(s, "--all") == 0) {
			o->all = 1;
		} else {
			/* --config's and -o's values stay next to them */
			rest[(*n_rest)++] = argv[i];
		}
	}
	rest[*n_rest] = NULL;
	return -1;
}

/* The interpreter a run would check modules with: the executor's python
 * parameter (auto: the local executor's manifest; both default alike). */
static const char *
kb_python(const aml_config *cfg, const aml_registry *reg)
{
	const char *name = aml_config_get(cfg, "executor"), *v;
	const aml_manifest *m;
	aml_plugin fake;
	char err[AML_ERRLEN];

	if (name == NULL || name[0] == '\0' || strcmp(name, "auto") == 0)
		name = "local";
	m = aml_registry_find(reg, AML_KIND_EXECUTOR, name, err, sizeof err);
	if (m == NULL)
		return AML_DEFAULT_PYTHON;
	memset(&fake, 0, sizeof fake);
	fake.manifest = m;
	fake.slot = (char *)"executor";
	v = aml_host_param(&fake, cfg, "python");
	return v && v[0] ? v : AML_DEFAULT_PYTHON;
}

static int
valid_level(const char *l)
{
	return l == NULL || strcmp(l, "model") == 0 || strcmp(l, "data") == 0
		|| strcmp(l, "strategy") == 0;
}

static void
print_json(json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY
						      | JSON_C_TO_STRING_NOSLASHESCAPE));
}

static int
cmd_list(const aml_kb *kb, const kb_opts *o, int json)
{
	json_object *arr = json ? json_object_new_array() : NULL;
	size_t i, idw = 2, pw = 4;

	for (i = 0; i < aml_kb_size(kb); i++) {
		const aml_kb_entry *e = aml_kb_at(kb, i);

		if (strlen(e->id) > idw)
			idw = strlen(e->id);
		if (strlen(e->pack) > pw)
			pw = strlen(e->pack);
	}
	for (i = 0; i < aml_kb_size(kb); i++) {
		const aml_kb_entry *e = aml_kb_at(kb, i);

		if (o->level && strcmp(e->level, o->level) != 0)
			continue;
		if (arr) {
			json_object *j = json_object_new_object();

			json_object_object_add(j, "id", json_object_new_string(e->id));
			json_object_object_add(j, "level", json_object_new_string(e->level));
			json_object_object_add(j, "pack", json_object_new_string(e->pack));
			json_object_object_add(j, "title", json_object_new_string(e->title));
			json_object_array_add(arr, j);
		} else {
			printf("%-*s  %-8s  %-*s  %s\n", (int)idw, e->id, e->level,
			       (int)pw, e->pack, e->title);
		}
	}
	if (arr) {
		print_json(arr);
		json_object_put(arr);
	}
	return 0;
}

/* A JSON array of strings as "a, b, c", or dflt when empty or absent. */
static void
print_list(const char *label, json_object *j, const char *key, const char *dflt)
{
	json_object *l;
	size_t i, n;

	printf("%-12s ", label);
	if (!json_object_object_get_ex(j, key, &l) || !json_object_is_type(l, json_type_array)
	    || (n = json_object_array_length(l)) == 0) {
		printf("%s\n", dflt);
		return;
	}
	for (i = 0; i < n; i++)
		printf("%s%s", i ? ", " : "", json_object_get_string(json_object_array_get_idx(l, i)));
	putchar('\n');
}

/* Text indented by two spaces, line by line. */
static void
print_block(const char *label, const char *text)
{
	const char *p = text, *nl;

	printf("%s:\n", label);
	if (text == NULL || text[0] == '\0') {
		printf("  (none)\n");
		return;
	}
	while (*p) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		if (nl > p)
			printf("  %.*s", (int)(nl - p), p);
		putchar('\n');
		p = *nl ? nl + 1 : nl;
	}
}

static void
print_space(json_object *j)
{
	json_object *space, *v;

	printf("space:\n");
	if (!json_object_object_get_ex(j, "space", &space)
	    || !json_object_is_type(space, json_type_object)
	    || json_object_object_length(space) == 0) {
		printf("  (none)\n");
		return;
	}
	json_object_object_foreach(space, name, spec) {
		const char *type = json_object_object_get_ex(spec, "type", &v)
			? json_object_get_string(v) : "?";

		printf("  %s: %s", name, type);
		if (json_object_object_get_ex(spec, "choices", &v))
			printf(" of %s", json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
		if (json_object_object_get_ex(spec, "low", &v)) {
			printf(" in [%s", json_object_get_string(v));
			printf(", %s]", json_object_object_get_ex(spec, "high", &v)
			       ? json_object_get_string(v) : "?");
		}
		if (json_object_object_get_ex(spec, "default", &v))
			printf(", default %s", json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
		if (json_object_object_get_ex(spec, "description", &v))
			printf(" — %s", json_object_get_string(v));
		putchar('\n');
	}
}

static int
cmd_show(const aml_kb *kb, const char *id, int json)
{
	const aml_kb_entry *e = NULL;
	json_object *j, *v;
	size_t i;

	for (i = 0; i < aml_kb_size(kb) && e == NULL; i++)
		if (strcmp(aml_kb_at(kb, i)->id, id) == 0)
			e = aml_kb_at(kb, i);
	if (e == NULL) {
		fprintf(stderr, "automlgen kb show: no entry '%s' (see 'automlgen kb list'; "
			"--all keeps the entries whose Python modules are missing)\n", id);
		return 2;
	}
	j = json_tokener_parse(e->json);
	if (j == NULL) {
		fprintf(stderr, "automlgen kb show: out of memory\n");
		return 1;
	}
	if (json) {
		json_object_object_add(j, "source", json_object_new_string(e->source));
		print_json(j);
		json_object_put(j);
		return 0;
	}
	printf("%-12s %s\n", "id:", e->id);
	printf("%-12s %s\n", "title:", e->title);
	printf("%-12s %s\n", "level:", e->level);
	printf("%-12s %s\n", "pack:", e->pack);
	printf("%-12s %s\n", "source:", e->source);
	printf("%-12s %s\n", "priority:", json_object_object_get_ex(j, "priority", &v)
	       ? json_object_get_string(v) : "50");
	print_list("modalities:", j, "modalities", "any");
	print_list("task types:", j, "task_types", "any");
	print_list("outputs:", j, "outputs", "any");
	printf("%-12s ", "limits:");
	if (json_object_object_get_ex(j, "limits", &v) && json_object_is_type(v, json_type_object)
	    && json_object_object_length(v) > 0) {
		int first = 1;

		json_object_object_foreach(v, key, val) {
			printf("%s%s %s", first ? "" : ", ", key, json_object_get_string(val));
			first = 0;
		}
		putchar('\n');
	} else {
		printf("none\n");
	}
	print_list("modules:", j, "modules", "none");
	print_list("tags:", j, "tags", "none");
	print_list("references:", j, "references", "none");
	print_block("guidance", e->guidance);
	print_space(j);
	print_block("code", e->code);
	json_object_put(j);
	return 0;
}

static int
cmd_search(const aml_kb *kb, const aml_task *task, const kb_opts *o,
	   const char *text, int json)
{
	aml_kb_query q;
	aml_kb_hit *h;
	char err[AML_ERRLEN] = "";
	size_t n = 0, i, idw = 2, pw = 4, cap = aml_kb_size(kb) + 1;
	int fused = 0;
	json_object *arr;

	memset(&q, 0, sizeof q);
	q.level = o->level;
	q.text = text;
	q.k = o->k_set ? o->k : KB_SEARCH_DEFAULT_K;
	q.applicable_only = task != NULL;
	h = calloc(cap, sizeof *h);
	if (h == NULL) {
		fprintf(stderr, "automlgen kb search: out of memory\n");
		return 1;
	}
	if (aml_kb_rank(kb, task, &q, h, cap, &n, err, sizeof err) != AML_OK) {
		fprintf(stderr, "automlgen kb search: %s\n", err);
		free(h);
		return 2;
	}
	for (i = 0; i < n; i++) {
		if (strlen(h[i].entry->id) > idw)
			idw = strlen(h[i].entry->id);
		if (strlen(h[i].entry->pack) > pw)
			pw = strlen(h[i].entry->pack);
		fused |= strcmp(h[i].ranker, "bm25") != 0;
	}
	if (json) {
		arr = json_object_new_array();
		for (i = 0; i < n; i++) {
			json_object *j = json_object_new_object();

			json_object_object_add(j, "rank", json_object_new_int((int)i + 1));
			json_object_object_add(j, "id", json_object_new_string(h[i].entry->id));
			json_object_object_add(j, "level", json_object_new_string(h[i].entry->level));
			json_object_object_add(j, "pack", json_object_new_string(h[i].entry->pack));
			json_object_object_add(j, "title", json_object_new_string(h[i].entry->title));
			json_object_object_add(j, "bm25", json_object_new_double(h[i].bm25));
			json_object_object_add(j, "score", json_object_new_double(h[i].score));
			json_object_object_add(j, "ranker", json_object_new_string(h[i].ranker));
			json_object_array_add(arr, j);
		}
		print_json(arr);
		json_object_put(arr);
	} else {
		printf("%4s  %7s  %-*s  %-8s  %-*s  %s\n", "RANK", "BM25", (int)idw, "ID",
		       "LEVEL", (int)pw, "PACK", fused ? "TITLE  [fused score, ranked by]" : "TITLE");
		for (i = 0; i < n; i++) {
			printf("%4zu  %7.3f  %-*s  %-8s  %-*s  %s", i + 1, h[i].bm25, (int)idw,
			       h[i].entry->id, h[i].entry->level, (int)pw, h[i].entry->pack,
			       h[i].entry->title);
			if (fused)
				printf("  [%.5f, %s]", h[i].score, h[i].ranker);
			putchar('\n');
		}
	}
	free(h);
	return 0;
}

int
aml_cmd_kb(int argc, char **argv)
{
	kb_opts o;
	aml_cli_args a;
	aml_registry *reg = NULL;
	aml_task_info *task = NULL;
	aml_context ctx;
	aml_kb *kb = NULL;
	aml_sb text = {0};
	char err[AML_ERRLEN] = "", **rest;
	const char *sub, *src;
	int n_rest, rc, i;

	memset(&o, 0, sizeof o);
	rest = calloc((size_t)argc + 1, sizeof *rest);
	if (rest == NULL)
		return 1;
	rc = take_opts(argc, argv, &o, rest, &n_rest);
	if (rc >= 0) {
		free(rest);
		return rc;
	}
	rc = aml_cli_parse(n_rest, rest, &a);
	free(rest);
	if (rc != 0) {
		aml_cli_free(&a);
		return rc;
	}
	/* the listing is the output: progress lines only when asked for */
	src = aml_config_source(a.cfg, "log.level");
	if (!a.verbose && (src == NULL || strcmp(src, "default") == 0))
		aml_log_set_level(AML_LOG_WARN);
	sub = a.n_pos > 0 ? a.pos[0] : NULL;
	rc = 2;
	if (sub == NULL) {
		kb_usage(stderr);
		goto out;
	}
	if (strcmp(sub, "list") != 0 && strcmp(sub, "show") != 0 && strcmp(sub, "search") != 0) {
		fprintf(stderr, "automlgen kb: unknown sub-command '%s' (list, show or search)\n", sub);
		goto out;
	}
	if ((strcmp(sub, "show") == 0 && a.n_pos != 2) || (strcmp(sub, "list") == 0 && a.n_pos != 1)
	    || (strcmp(sub, "search") == 0 && a.n_pos < 2)) {
		fprintf(stderr, "automlgen kb %s: %s (try 'automlgen kb --help')\n", sub,
			strcmp(sub, "show") == 0 ? "give one entry id"
			: strcmp(sub, "list") == 0 ? "takes no arguments" : "give a query");
		goto out;
	}
	if ((o.task_dir || o.k_set) && strcmp(sub, "search") != 0) {
		fprintf(stderr, "automlgen kb %s: --task and -k go with search\n", sub);
		goto out;
	}
	if (!valid_level(o.level)) {
		fprintf(stderr, "automlgen kb: unknown level '%s' (model, data or strategy)\n",
			o.level);
		goto out;
	}
	aml_context_init(&ctx, a.cfg);
	if (o.task_dir) {
		if (aml_task_load(o.task_dir, &task, err, sizeof err) != AML_OK) {
			fprintf(stderr, "automlgen kb search: %s\n", err);
			goto out;
		}
		ctx.task = aml_task_view(task);
	}
	rc = 1;
	if (aml_registry_scan(aml_config_get(a.cfg, "plugins.path"), &reg, err, sizeof err) != AML_OK) {
		fprintf(stderr, "automlgen kb: %s\n", err);
		goto out;
	}
	if (aml_kb_load_all(a.cfg, reg, &ctx, o.all ? NULL : kb_python(a.cfg, reg), &kb,
			    err, sizeof err) != AML_OK) {
		fprintf(stderr, "automlgen kb: %s%s\n", err,
			o.all ? "" : " (--all skips the module check)");
		goto out;
	}
	ctx.kb = kb;
	if (strcmp(sub, "list") == 0) {
		rc = cmd_list(kb, &o, a.json);
	} else if (strcmp(sub, "show") == 0) {
		rc = cmd_show(kb, a.pos[1], a.json);
	} else {
		for (i = 1; i < a.n_pos; i++)
			aml_sb_printf(&text, "%s%s", i > 1 ? " " : "", a.pos[i]);
		rc = text.oom ? 1 : cmd_search(kb, ctx.task, &o, text.s ? text.s : "", a.json);
		aml_sb_free(&text);
	}
	if (rc == 0 && fflush(stdout) != 0)
		rc = 1;
out:
	aml_kb_free(kb);
	aml_registry_free(reg);
	aml_task_free(task);
	aml_cli_free(&a);
	return rc;
}
