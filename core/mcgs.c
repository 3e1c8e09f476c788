/*
 * mcgs.c — see mcgs.h.
 */
#include "config.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "mcgs.h"
#include "util.h"

#define ROOT (-1)
#define EPS 1e-9
#define VIRTUAL_LOSS 1.0
#define MAX_TRIES 32

static const char *const flavors[] = {"hyperparameters", "features", "strategy"};
static const char *const mode_names[] = {"primary", "evolution", "reference", "aggregation"};
static const char *const op_names[] = {"draft", "debug", "improve", "fuse", "recall"};

typedef struct branch {
	uint32_t root;              /* the draft (or fusion) that started it */
	int32_t best;               /* best valid node of the branch, -1 */
	uint32_t since_improve;     /* branch nodes since its best improved */
	uint32_t topk[AML_MCGS_MAX_TOPK];
	uint32_t n_topk;
	uint32_t recent[AML_MCGS_MAX_REFS]; /* the branch's last nodes, a ring */
	uint32_t n_recent;          /* nodes ever added to the ring */
	int fused;                  /* started by an aggregation */
} branch;

struct aml_mcgs {
	aml_mcgs_params p;
	aml_graph *g;
	uint64_t rng;
	branch *branches;
	uint32_t n_branches, cap_branches;
	int32_t *branch_of;         /* node id -> branch index (root children only) */
	size_t cap_branch_of;
	uint32_t topk[AML_MCGS_MAX_TOPK];
	uint32_t n_topk;
	uint32_t since_global;      /* nodes since the global best improved */
	uint32_t fused[AML_MCGS_MAX_REFS]; /* the inputs of the last aggregation */
	uint32_t n_fused;
	uint32_t *buggy_leaves;     /* greedy: buggy nodes without children */
	uint32_t n_buggy, cap_buggy;
	uint32_t *live;             /* finished root children not exhausted: the
				     * root's UCT scans only these */
	uint32_t n_live, cap_live;
	aml_mcgs_stats stats;
};

/* ------------------------------------------------------------------ */
/* Parameters                                                          */

typedef struct pkey {
	const char *key;
	int is_int;
	size_t off;
	double lo, hi;
} pkey;

#define PD(k, f, lo, hi) {"search." k, 0, offsetof(aml_mcgs_params, f), lo, hi}
#define PI(k, f, lo, hi) {"search." k, 1, offsetof(aml_mcgs_params, f), lo, hi}

static const pkey pkeys[] = {
	PI("num_drafts", num_drafts, 1, 1e6),
	PD("uct_c", uct_c, 0, 100),
	PD("uct_c_floor", uct_c_floor, 0, 100),
	PD("uct_decay_start", uct_decay_start, 0, 10),
	PD("uct_decay_end", uct_decay_end, 0, 10),
	PI("max_improve_children", max_improve_children, 1, 1000),
	PI("max_debug_children", max_debug_children, 0, 1000),
	PI("debug_depth", debug_depth, 1, 1000),
	PI("improve_patience", improve_patience, 1, 1000),
	PI("topk_branch", topk_branch, 1, AML_MCGS_MAX_TOPK),
	PI("topk_global", topk_global, 1, AML_MCGS_MAX_TOPK),
	PI("branch_stagnation", branch_stagnation, 1, 1e6),
	PI("global_stagnation", global_stagnation, 1, 1e6),
	PD("aggregate_after", aggregate_after, 0, 1),
	PD("aggregate_before", aggregate_before, 0, 1),
	PI("aggregate_branches", aggregate_branches, 2, AML_MCGS_MAX_REFS),
	PD("reference_prob", reference_prob, 0, 1),
	PD("debug_prob", debug_prob, 0, 1),
	PD("late_phase", late_phase, 0, 1),
	PD("late_exploit_prob", late_exploit_prob, 0, 1),
	PD("greedy_debug_prob", greedy_debug_prob, 0, 1),
	PD("reward_buggy", reward_buggy, -1e6, 1e6),
	PD("reward_valid", reward_valid, -1e6, 1e6),
	PD("reward_improve", reward_improve, -1e6, 1e6),
	PD("reward_best", reward_best, -1e6, 1e6),
	PD("reward_debug_fix", reward_debug_fix, -1e6, 1e6),
};

const char *
aml_policy_name(aml_policy p)
{
	switch (p) {
	case AML_POLICY_MCGS: return "mcgs";
	case AML_POLICY_MCTS: return "mcts";
	case AML_POLICY_GREEDY: return "greedy";
	}
	return "unknown";
}

int
aml_mcgs_params_load(aml_mcgs_params *p, const aml_config *cfg, char *err, size_t errlen)
{
	const char *policy = aml_config_get(cfg, "search.policy");
	size_t i;
	int rc;

	memset(p, 0, sizeof *p);
	if (policy && strcmp(policy, "mcgs") == 0)
		p->policy = AML_POLICY_MCGS;
	else if (policy && strcmp(policy, "mcts") == 0)
		p->policy = AML_POLICY_MCTS;
	else if (policy && strcmp(policy, "greedy") == 0)
		p->policy = AML_POLICY_GREEDY;
	else {
		aml_seterr(err, errlen, "unknown search.policy '%s' (known: mcgs, mcts, greedy, drafts)",
			   policy ? policy : "");
		return AML_EINVAL;
	}
	for (i = 0; i < AML_ARRAY_LEN(pkeys); i++) {
		double v;

		rc = aml_config_double(cfg, pkeys[i].key, &v, err, errlen);
		if (rc != AML_OK)
			return rc;
		if (v < pkeys[i].lo || v > pkeys[i].hi || (pkeys[i].is_int && v != floor(v))) {
			aml_seterr(err, errlen, "%s: '%s' must be a%s number in [%g, %g], got '%s'",
				   aml_config_source(cfg, pkeys[i].key), pkeys[i].key,
				   pkeys[i].is_int ? " whole" : "", pkeys[i].lo, pkeys[i].hi,
				   aml_config_get(cfg, pkeys[i].key));
			return AML_EINVAL;
		}
		if (pkeys[i].is_int)
			*(uint32_t *)((char *)p + pkeys[i].off) = (uint32_t)v;
		else
			*(double *)((char *)p + pkeys[i].off) = v;
	}
	if (p->uct_decay_end < p->uct_decay_start) {
		aml_seterr(err, errlen, "search.uct_decay_end must be >= search.uct_decay_start");
		return AML_EINVAL;
	}
	return AML_OK;
}

double
aml_mcgs_c(const aml_mcgs_params *p, double f)
{
	double span = p->uct_decay_end - p->uct_decay_start;

	if (f <= p->uct_decay_start || p->uct_c_floor >= p->uct_c)
		return p->uct_c;
	if (f >= p->uct_decay_end || span <= 0)
		return p->uct_c_floor;
	return p->uct_c - (p->uct_c - p->uct_c_floor) * (f - p->uct_decay_start) / span;
}

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

static uint64_t
rng_next(aml_mcgs *m)
{
	/* splitmix64: small, fast, and the same sequence everywhere */
	uint64_t z = (m->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double
rng_unit(aml_mcgs *m)
{
	return (double)(rng_next(m) >> 11) / 9007199254740992.0;
}

static aml_node *
node(const aml_mcgs *m, int32_t id)
{
	return id >= 0 ? m->g->nodes[id] : NULL;
}

static branch *
branch_of(const aml_mcgs *m, const aml_node *n)
{
	if (n->branch >= m->cap_branch_of || m->branch_of[n->branch] < 0)
		return NULL;
	return &m->branches[m->branch_of[n->branch]];
}

static int
better(const aml_mcgs *m, double a, double b)
{
	return aml_graph_better(m->g, a, b);
}

/* Insert id into a top-k list kept best first; O(k). */
static void
topk_insert(const aml_mcgs *m, uint32_t *list, uint32_t *n, uint32_t k, uint32_t id)
{
	double s = m->g->nodes[id]->score;
	uint32_t i, at;

	for (at = 0; at < *n; at++)
		if (better(m, s, m->g->nodes[list[at]]->score))
			break;
	if (at >= k)
		return;
	if (*n < k)
		(*n)++;
	for (i = *n - 1; i > at; i--)
		list[i] = list[i - 1];
	list[at] = id;
}

int
aml_mcgs_new(const aml_mcgs_params *p, aml_graph *g, uint64_t seed, aml_mcgs **out)
{
	aml_mcgs *m = calloc(1, sizeof *m);

	*out = NULL;
	if (m == NULL)
		return AML_ENOMEM;
	m->p = *p;
	m->g = g;
	/* greedy picks by score alone: no statistics to keep, and its
	 * ever-deeper improvement chain would make backpropagation O(depth) */
	g->no_visits = p->policy == AML_POLICY_GREEDY;
	m->rng = seed ^ 0x5851f42d4c957f2dULL;
	*out = m;
	return AML_OK;
}

void
aml_mcgs_free(aml_mcgs *m)
{
	if (m == NULL)
		return;
	free(m->branches);
	free(m->branch_of);
	free(m->buggy_leaves);
	free(m->live);
	free(m);
}

/* Mark v exhausted; a root child also leaves the live list. */
static void
exhaust(aml_mcgs *m, aml_node *v)
{
	v->exhausted = 1;
	if (v->root_slot >= 0) {
		uint32_t i = (uint32_t)v->root_slot, last = m->live[--m->n_live];

		m->live[i] = last;
		m->g->nodes[last]->root_slot = (int32_t)i;
		v->root_slot = -1;
	}
}

/* ------------------------------------------------------------------ */
/* Reservations                                                        */

static void
reserve(aml_mcgs *m, int32_t parent)
{
	aml_node *v;

	if (parent == ROOT)
		m->g->root_pending++;
	else
		m->g->nodes[parent]->pending++;
	if (m->g->no_visits)
		return;
	for (v = node(m, parent); v; v = node(m, v->parent))
		v->in_flight++;
	m->g->root_in_flight++;
}

void
aml_mcgs_release(aml_mcgs *m, const aml_mcgs_decision *d)
{
	aml_node *v;

	if (d->parent == ROOT)
		m->g->root_pending--;
	else
		m->g->nodes[d->parent]->pending--;
	if (m->g->no_visits)
		return;
	for (v = node(m, d->parent); v; v = node(m, v->parent))
		v->in_flight--;
	m->g->root_in_flight--;
}

/* ------------------------------------------------------------------ */
/* Selection                                                           */

static int
expandable(const aml_mcgs *m, const aml_node *v)
{
	uint32_t used = (uint32_t)v->n_children;

	if (v->terminal || v->status == AML_NODE_PENDING || v->status == AML_NODE_OP_FAILED)
		return 0;
	if (v->status == AML_NODE_VALID)
		return used < m->p.max_improve_children;
	return used < m->p.max_debug_children;
}

static double
uct(const aml_mcgs *m, const aml_node *c, double parent_n, double cexp)
{
	double n = (double)c->visits + (double)c->in_flight;
	double q = c->total_reward - VIRTUAL_LOSS * (double)c->in_flight;

	return q / (n + EPS) + cexp * sqrt(log(parent_n + 1.0) / (n + EPS));
}

static int
in_set(const uint32_t *set, uint32_t n, uint32_t id)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (set[i] == id)
			return 1;
	return 0;
}

/* Fill d for expanding valid node v (improve / recall / reference). */
static void
decide_valid(aml_mcgs *m, aml_node *v, aml_mcgs_decision *d)
{
	branch *b = branch_of(m, v);
	uint32_t i;

	d->parent = (int32_t)v->id;
	d->op = "improve";
	d->mode = mode_names[0];
	d->flavor = flavors[v->n_children % AML_ARRAY_LEN(flavors)];
	if (m->p.policy != AML_POLICY_MCGS)
		return;
	if (b && b->since_improve >= m->p.branch_stagnation) {
		/* intra-branch evolution: the branch's recent trajectory,
		 * oldest first, without v itself (the node being extended) */
		uint32_t k = b->n_recent < AML_MCGS_MAX_REFS ? b->n_recent : AML_MCGS_MAX_REFS;

		d->op = "recall";
		d->mode = mode_names[1];
		d->flavor = NULL;
		for (i = 0; i < k; i++) {
			uint32_t id = b->recent[(b->n_recent - k + i) % AML_MCGS_MAX_REFS];

			if (id == v->id)
				continue;
			d->refs[d->n_refs] = id;
			d->ref_kinds[d->n_refs++] = AML_REF_RECALL;
		}
		b->since_improve = 0; /* give the recall its chance */
		return;
	}
	if (rng_unit(m) < m->p.reference_prob) {
		/* cross-branch reference: top nodes of the other branches */
		for (i = 0; i < m->n_topk && d->n_refs < 3; i++) {
			const aml_node *t = m->g->nodes[m->topk[i]];

			if (t->branch != v->branch) {
				d->refs[d->n_refs] = t->id;
				d->ref_kinds[d->n_refs++] = AML_REF_CROSS;
			}
		}
		if (d->n_refs)
			d->mode = mode_names[2];
	}
}

static void
decide(aml_mcgs *m, aml_node *v, aml_mcgs_decision *d)
{
	if (v == NULL) {
		d->parent = ROOT;
		d->op = "draft";
		d->mode = mode_names[0];
	} else if (v->status == AML_NODE_VALID) {
		decide_valid(m, v, d);
	} else {
		d->parent = (int32_t)v->id;
		d->op = "debug";
		d->mode = mode_names[0];
	}
}

/* mcgs: a failed child of v that can still be debugged (the newest), or
 * NULL.  UCT alone almost never returns to a failed improvement once its
 * siblings score (its -1 weighs against their gains), yet a crashed
 * change is often one fix away from the gain it aimed at. */
static aml_node *
debuggable_child(const aml_mcgs *m, const aml_node *v, const uint32_t *blocked,
		 uint32_t n_blocked)
{
	size_t i;

	for (i = v->n_children; i-- > 0;) {
		aml_node *c = m->g->nodes[v->children[i]];

		if ((c->status == AML_NODE_BUGGY || c->status == AML_NODE_INVALID_SUB)
		    && !c->exhausted && expandable(m, c) && c->pending == 0
		    && !in_set(blocked, n_blocked, c->id))
			return c;
	}
	return NULL;
}

/* Multi-branch aggregation: fuse the best nodes of the top branches. */
static int
try_aggregate(aml_mcgs *m, double frac, aml_mcgs_decision *d)
{
	uint32_t best[AML_MCGS_MAX_REFS], n = 0, i, k = m->p.aggregate_branches;

	if (m->p.policy != AML_POLICY_MCGS || frac < m->p.aggregate_after
	    || frac > m->p.aggregate_before || m->since_global < m->p.global_stagnation)
		return 0;
	for (i = 0; i < m->n_branches; i++) {
		int32_t b = m->branches[i].best;

		/* fuse what the drafts' branches found; fusing a fusion again
		 * with its own inputs would only repeat it */
		if (b < 0 || m->branches[i].fused)
			continue;
		topk_insert(m, best, &n, k, (uint32_t)b);
	}
	if (n < 2)
		return 0;
	/* the same inputs again would only make the same fusion again */
	if (n == m->n_fused && memcmp(best, m->fused, n * sizeof *best) == 0) {
		m->since_global = 0;
		return 0;
	}
	memcpy(m->fused, best, n * sizeof *best);
	m->n_fused = n;
	d->parent = ROOT;
	d->op = "fuse";
	d->mode = mode_names[3];
	for (i = 0; i < n; i++) {
		d->refs[i] = best[i];
		d->ref_kinds[i] = AML_REF_FUSION;
	}
	d->n_refs = n;
	m->since_global = 0;
	return 1;
}

/* Late in the budget: pick from the global top-k by rank. */
static int
try_late(aml_mcgs *m, double frac, aml_mcgs_decision *d)
{
	double total = 0, r;
	uint32_t i;

	if (frac < m->p.late_phase || m->n_topk == 0 || rng_unit(m) >= m->p.late_exploit_prob)
		return 0;
	for (i = 0; i < m->n_topk; i++)
		if (expandable(m, m->g->nodes[m->topk[i]]))
			total += 1.0 / (i + 1);
	if (total <= 0)
		return 0;
	r = rng_unit(m) * total;
	for (i = 0; i < m->n_topk; i++) {
		aml_node *t = m->g->nodes[m->topk[i]];

		if (!expandable(m, t))
			continue;
		r -= 1.0 / (i + 1);
		if (r <= 0 || i + 1 == m->n_topk) {
			decide_valid(m, t, d);
			m->stats.late_picks++;
			return 1;
		}
	}
	return 0;
}

/* Walk down by UCT; 1 with d filled, 0 when blocked (retry), -1 when
 * everything under the root is busy. */
static int
descend(aml_mcgs *m, double cexp, uint32_t *blocked, uint32_t *n_blocked, aml_mcgs_decision *d)
{
	aml_node *v = NULL;
	size_t nchild, i;
	const uint32_t *children;

	for (;;) {
		aml_node *pick = NULL;
		double best = -INFINITY, pn;
		int busy = 0;

		if (v == NULL) {
			if (m->g->root_children < m->p.num_drafts) {
				decide(m, NULL, d);
				return 1;
			}
			pn = (double)m->g->root_visits + m->g->root_in_flight;
		} else {
			if (expandable(m, v)) {
				decide(m, v, d);
				return 1;
			}
			pn = (double)v->visits + v->in_flight;
			if (m->p.policy == AML_POLICY_MCGS && m->p.debug_prob > 0) {
				aml_node *c = debuggable_child(m, v, blocked, *n_blocked);

				/* the draw only when there is a choice, so runs
				 * without failures keep their sequence */
				if (c && rng_unit(m) < m->p.debug_prob) {
					v = c;
					continue;
				}
			}
		}
		if (v == NULL) {
			children = m->live;
			nchild = m->n_live;
			busy = m->g->root_pending > 0;
		} else {
			children = v->children;
			nchild = v->n_children;
		}
		for (i = 0; i < nchild; i++) {
			aml_node *c = m->g->nodes[children[i]];
			double u;

			if (c->status == AML_NODE_PENDING) {
				busy = 1;
				continue;
			}
			if (c->exhausted || in_set(blocked, *n_blocked, c->id))
				continue;
			u = uct(m, c, pn, cexp);
			if (u > best) {
				best = u;
				pick = c;
			}
		}
		if (pick) {
			v = pick;
			continue;
		}
		if (v == NULL) {
			if (busy)
				return -1;
			/* every branch is spent: the root is never exhausted */
			decide(m, NULL, d);
			return 1;
		}
		if (!busy && v->pending == 0) {
			exhaust(m, v);
		} else if (*n_blocked < MAX_TRIES) {
			blocked[(*n_blocked)++] = v->id;
		}
		return 0;
	}
}

/* greedy: the node to improve — the best valid node, or, once the
 * operator could make nothing of it, the best of the global top-k it
 * still can; NULL when none is left. */
static aml_node *
greedy_target(const aml_mcgs *m)
{
	aml_node *b = node(m, m->g->best);
	uint32_t i;

	if (b == NULL || !b->exhausted)
		return b;
	for (i = 0; i < m->n_topk; i++) {
		aml_node *t = m->g->nodes[m->topk[i]];

		if (!t->exhausted)
			return t;
	}
	return NULL;
}

static int
select_greedy(aml_mcgs *m, aml_mcgs_decision *d)
{
	aml_node *b;

	if (m->g->root_children < m->p.num_drafts) {
		decide(m, NULL, d);
		return 0;
	}
	b = greedy_target(m);
	if (m->n_buggy && (b == NULL || rng_unit(m) < m->p.greedy_debug_prob)) {
		uint32_t i = (uint32_t)(rng_next(m) % m->n_buggy);
		aml_node *v = m->g->nodes[m->buggy_leaves[i]];

		/* the leaf is no longer one once it is being debugged */
		m->buggy_leaves[i] = m->buggy_leaves[--m->n_buggy];
		if (i < m->n_buggy)
			m->g->nodes[m->buggy_leaves[i]]->greedy_slot = (int32_t)i;
		v->greedy_slot = -1;
		d->parent = (int32_t)v->id;
		d->op = "debug";
		d->mode = mode_names[0];
		return 0;
	}
	if (b == NULL) {
		if (m->g->root_pending)
			return -1;
		decide(m, NULL, d);
		return 0;
	}
	d->parent = (int32_t)b->id;
	d->op = "improve";
	d->mode = mode_names[0];
	d->flavor = flavors[b->n_children % AML_ARRAY_LEN(flavors)];
	return 0;
}

int
aml_mcgs_select(aml_mcgs *m, double frac, aml_mcgs_decision *d)
{
	uint32_t blocked[MAX_TRIES], n_blocked = 0;
	double cexp = aml_mcgs_c(&m->p, frac);
	int tries, rc = -1;

	memset(d, 0, sizeof *d);
	d->parent = ROOT;
	if (m->p.policy == AML_POLICY_GREEDY) {
		rc = select_greedy(m, d);
	} else if (try_late(m, frac, d) || try_aggregate(m, frac, d)) {
		rc = 0;
	} else {
		for (tries = 0; tries < 2 * MAX_TRIES; tries++) {
			int r = descend(m, cexp, blocked, &n_blocked, d);

			if (r != 0) {
				rc = r > 0 ? 0 : -1;
				break;
			}
		}
	}
	if (rc != 0)
		return -1;
	reserve(m, d->parent);
	{
		size_t mode;

		for (mode = 0; mode < 4; mode++)
			if (d->mode == mode_names[mode])
				m->stats.by_mode[mode]++;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Resume                                                              */

const char *
aml_mcgs_name(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < AML_ARRAY_LEN(op_names); i++)
		if (strcmp(name, op_names[i]) == 0)
			return op_names[i];
	for (i = 0; i < AML_ARRAY_LEN(mode_names); i++)
		if (strcmp(name, mode_names[i]) == 0)
			return mode_names[i];
	for (i = 0; i < AML_ARRAY_LEN(flavors); i++)
		if (strcmp(name, flavors[i]) == 0)
			return flavors[i];
	return NULL;
}

void
aml_mcgs_reseed(aml_mcgs *m, uint64_t salt)
{
	m->rng ^= salt * 0x9e3779b97f4a7c15ULL;
	(void)rng_next(m);
}

void
aml_mcgs_replay(aml_mcgs *m, const aml_mcgs_decision *d)
{
	aml_node *p = node(m, d->parent);
	size_t mode;

	if (d->mode == mode_names[1] && p) {
		branch *b = branch_of(m, p);

		if (b)
			b->since_improve = 0;
	} else if (d->mode == mode_names[3]) {
		uint32_t n = d->n_refs < AML_MCGS_MAX_REFS ? d->n_refs : AML_MCGS_MAX_REFS;

		memcpy(m->fused, d->refs, n * sizeof *d->refs);
		m->n_fused = n;
		m->since_global = 0;
	}
	if (m->p.policy == AML_POLICY_GREEDY && p && p->greedy_slot >= 0) {
		uint32_t i = (uint32_t)p->greedy_slot;

		m->buggy_leaves[i] = m->buggy_leaves[--m->n_buggy];
		if (i < m->n_buggy)
			m->g->nodes[m->buggy_leaves[i]]->greedy_slot = (int32_t)i;
		p->greedy_slot = -1;
	}
	reserve(m, d->parent);
	for (mode = 0; mode < 4; mode++)
		if (d->mode == mode_names[mode])
			m->stats.by_mode[mode]++;
}

/* ------------------------------------------------------------------ */
/* Integration                                                         */

static int
add_branch(aml_mcgs *m, aml_node *n)
{
	branch *b;

	if (n->id >= m->cap_branch_of) {
		size_t cap = m->cap_branch_of ? m->cap_branch_of : 64, i;
		int32_t *p;

		while (cap <= n->id)
			cap *= 2;
		p = realloc(m->branch_of, cap * sizeof *p);
		if (p == NULL)
			return AML_ENOMEM;
		for (i = m->cap_branch_of; i < cap; i++)
			p[i] = -1;
		m->branch_of = p;
		m->cap_branch_of = cap;
	}
	if (m->n_branches == m->cap_branches) {
		uint32_t cap = m->cap_branches ? m->cap_branches * 2 : 16;
		branch *nb = realloc(m->branches, cap * sizeof *nb);

		if (nb == NULL)
			return AML_ENOMEM;
		m->branches = nb;
		m->cap_branches = cap;
	}
	b = &m->branches[m->n_branches];
	memset(b, 0, sizeof *b);
	b->root = n->id;
	b->best = -1;
	b->fused = strcmp(n->op, "fuse") == 0;
	m->branch_of[n->id] = (int32_t)m->n_branches++;
	m->stats.branches = m->n_branches;
	return AML_OK;
}

int
aml_mcgs_integrate(aml_mcgs *m, const aml_mcgs_decision *d, aml_node *n)
{
	aml_node *p = node(m, n->parent), *a;
	branch *b;
	double r;
	uint32_t i;
	int new_best, rc;

	aml_mcgs_release(m, d);
	for (i = 0; i < d->n_refs; i++) {
		rc = aml_graph_add_ref(m->g, n, d->refs[i], (aml_ref_kind)d->ref_kinds[i]);
		if (rc != AML_OK)
			return rc;
	}
	if (n->parent == ROOT) {
		rc = add_branch(m, n);
		if (rc != AML_OK)
			return rc;
	}
	b = branch_of(m, n);
	if (b)
		b->recent[b->n_recent++ % AML_MCGS_MAX_REFS] = n->id;
	new_best = aml_graph_finish(m->g, n);

	if (n->status == AML_NODE_VALID) {
		double ref_best = NAN;

		r = m->p.reward_valid;
		for (i = 0; i < n->n_refs; i++) {
			const aml_node *x = m->g->nodes[n->refs[i]];

			if (n->ref_kinds[i] == AML_REF_FUSION && x->status == AML_NODE_VALID
			    && (isnan(ref_best) || better(m, x->score, ref_best)))
				ref_best = x->score;
		}
		if (p == NULL) {
			/* a draft that works, or a fusion that beats its inputs */
			if (isnan(ref_best) || better(m, n->score, ref_best))
				r = m->p.reward_improve;
		} else if (p->status == AML_NODE_VALID) {
			if (better(m, n->score, p->score)) {
				r = m->p.reward_improve;
			} else {
				n->no_gain = (uint16_t)(p->no_gain + 1);
				if (n->no_gain >= m->p.improve_patience)
					n->terminal = 1;
			}
		} else {
			r = m->p.reward_valid + m->p.reward_debug_fix;
		}
		if (new_best)
			r += m->p.reward_best;
		topk_insert(m, m->topk, &m->n_topk, m->p.topk_global, n->id);
		if (b) {
			if (b->best < 0 || better(m, n->score, m->g->nodes[b->best]->score)) {
				b->best = (int32_t)n->id;
				b->since_improve = 0;
			} else {
				b->since_improve++;
			}
			topk_insert(m, b->topk, &b->n_topk, m->p.topk_branch, n->id);
		}
	} else {
		r = m->p.reward_buggy;
		n->debug_depth = (uint16_t)((p && p->status != AML_NODE_VALID ? p->debug_depth : 0) + 1);
		if (n->status == AML_NODE_OP_FAILED || n->debug_depth >= m->p.debug_depth
		    || m->p.max_debug_children == 0)
			n->terminal = 1;
		if (b)
			b->since_improve++;
		/* greedy would ask for the same improvement of the same best
		 * node again and again: an operator that could make nothing of
		 * it (kbsynth: every single change tried; an LLM: no usable
		 * answer after the provider's retries) will not on the next
		 * identical request, so greedy moves on to the next best */
		if (m->p.policy == AML_POLICY_GREEDY && n->status == AML_NODE_OP_FAILED
		    && p && p->status == AML_NODE_VALID && !p->exhausted)
			exhaust(m, p);
		if (!n->terminal && m->p.policy == AML_POLICY_GREEDY) {
			if (m->n_buggy == m->cap_buggy) {
				uint32_t cap = m->cap_buggy ? m->cap_buggy * 2 : 64;
				uint32_t *l = realloc(m->buggy_leaves, cap * sizeof *l);

				if (l == NULL)
					return AML_ENOMEM;
				m->buggy_leaves = l;
				m->cap_buggy = cap;
			}
			n->greedy_slot = (int32_t)m->n_buggy;
			m->buggy_leaves[m->n_buggy++] = n->id;
		}
	}
	if (new_best)
		m->since_global = 0;
	else
		m->since_global++;
	if (n->parent == ROOT) {
		if (m->n_live == m->cap_live) {
			uint32_t cap = m->cap_live ? m->cap_live * 2 : 16;
			uint32_t *l = realloc(m->live, cap * sizeof *l);

			if (l == NULL)
				return AML_ENOMEM;
			m->live = l;
			m->cap_live = cap;
		}
		n->root_slot = (int32_t)m->n_live;
		m->live[m->n_live++] = n->id;
	}
	if (n->terminal)
		exhaust(m, n);
	n->reward = r;
	if (m->g->no_visits)
		return AML_OK;
	for (a = n; a; a = node(m, a->parent)) {
		a->visits++;
		a->total_reward += r;
	}
	m->g->root_visits++;
	return AML_OK;
}

void
aml_mcgs_get_stats(const aml_mcgs *m, aml_mcgs_stats *st)
{
	*st = m->stats;
}

const uint32_t *
aml_mcgs_topk(const aml_mcgs *m, uint32_t *n)
{
	*n = m->n_topk;
	return m->topk;
}
