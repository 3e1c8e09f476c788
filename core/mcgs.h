/*
 * mcgs.h — Monte Carlo Graph Search: which node to expand next, with which
 * operator and which references, and what each finished node is worth.
 *
 * The search runs select -> expand -> integrate.  select() walks the
 * primary tree from the virtual root by UCT,
 *     Q/(N+eps) + C * sqrt(ln(N_parent + 1) / (N + eps)),
 * with virtual loss for expansions under way so parallel workers spread
 * over branches, and picks the operator from the node's state:
 *   root -> draft; buggy node -> debug; valid node -> improve, or
 *   recall over the branch's recent trajectory when the branch stagnates
 *   (intra-branch evolution), or improve shown the top nodes of other
 *   branches (cross-branch reference); when the whole search stagnates
 *   mid-budget, fuse the best nodes of several branches into a new branch
 *   at the root (multi-branch aggregation).  Late in the budget it more
 *   often picks from the global top-k by rank than it explores.
 * integrate() gives the finished node its reward, backpropagates it along
 * primary edges, ends improvement and debug chains, and keeps the
 * per-branch and global top-k lists (incrementally: O(k) per node).
 *
 * Policies: "mcgs" (all of the above), "mcts" (tree only: no reference
 * edges, no evolution, no aggregation), "greedy" (AIDE-like: a few drafts,
 * then debug a buggy leaf with probability p, else improve the best node
 * the operator has not failed on; a draft when the top-k is spent).
 *
 * Not thread-safe: the search calls it under its lock.  Costs per call are
 * O(depth x branching + k), never O(nodes).
 */
#ifndef AML_MCGS_H
#define AML_MCGS_H

#include <stdint.h>

#include "conf.h"
#include "graph.h"

#define AML_MCGS_MAX_REFS 8
#define AML_MCGS_MAX_TOPK 16

typedef enum aml_policy {
	AML_POLICY_MCGS = 0,
	AML_POLICY_MCTS = 1,
	AML_POLICY_GREEDY = 2,
} aml_policy;

typedef struct aml_mcgs_params {
	aml_policy policy;
	uint32_t num_drafts;          /* drafts under the root */
	double uct_c;                 /* exploration constant */
	double uct_c_floor;           /* C after decay */
	double uct_decay_start;       /* budget fraction where C starts to fall */
	double uct_decay_end;         /* budget fraction where it reaches the floor */
	uint32_t max_improve_children;/* per valid node */
	uint32_t max_debug_children;  /* per buggy node */
	uint32_t debug_depth;         /* debug chain length limit */
	uint32_t improve_patience;    /* improvements without gain before terminal */
	uint32_t topk_branch;
	uint32_t topk_global;
	uint32_t branch_stagnation;   /* branch nodes without a branch best: evolve */
	uint32_t global_stagnation;   /* nodes without a global best: aggregate */
	double aggregate_after;       /* budget window for aggregation */
	double aggregate_before;
	uint32_t aggregate_branches;  /* branches fused */
	double reference_prob;        /* improve shown other branches' top nodes */
	double debug_prob;            /* mcgs: chance to debug a failed child first */
	double late_phase;            /* budget fraction where exploitation grows */
	double late_exploit_prob;     /* chance to pick from the global top-k then */
	double greedy_debug_prob;
	double reward_buggy, reward_valid, reward_improve, reward_best, reward_debug_fix;
} aml_mcgs_params;

/* What to do next.  refs are node ids the operator will be shown. */
typedef struct aml_mcgs_decision {
	int32_t parent;               /* -1: the root */
	const char *op;               /* "draft", "debug", "improve", "fuse", "recall" */
	const char *mode;             /* "primary", "evolution", "reference", "aggregation" */
	const char *flavor;           /* improve: "hyperparameters", "features", "strategy" */
	uint32_t refs[AML_MCGS_MAX_REFS];
	uint8_t ref_kinds[AML_MCGS_MAX_REFS];
	uint32_t n_refs;
} aml_mcgs_decision;

typedef struct aml_mcgs aml_mcgs;

/* Read the search.* keys of cfg into p; a bad value is an error line. */
int aml_mcgs_params_load(aml_mcgs_params *p, const aml_config *cfg,
			 char *err, size_t errlen);

/* A search over g (borrowed, must outlive it) seeded with seed. */
int aml_mcgs_new(const aml_mcgs_params *p, aml_graph *g, uint64_t seed,
		 aml_mcgs **out);
void aml_mcgs_free(aml_mcgs *m);

/* Choose the next expansion given the fraction of the budget spent
 * (0..1).  Reserves the parent (pending child, virtual loss along its
 * path) until aml_mcgs_integrate() or aml_mcgs_release().  The caller adds
 * the new node under d->parent (aml_graph_add) before anything else
 * selects, so child limits count it.  Returns 0, or
 * -1 when nothing can be expanded now (every branch exhausted and the
 * drafts spent while other expansions are under way: try again later). */
int aml_mcgs_select(aml_mcgs *m, double budget_frac, aml_mcgs_decision *d);

/* The node made for decision d is finished (status set): reward it,
 * backpropagate, update chains, top-k lists and stagnation, release the
 * reservation.  Also records d's reference edges on n. */
int aml_mcgs_integrate(aml_mcgs *m, const aml_mcgs_decision *d, aml_node *n);

/* Release a reservation whose expansion never produced a node. */
void aml_mcgs_release(aml_mcgs *m, const aml_mcgs_decision *d);

/* Resume: replay decision d, recorded by an earlier process of the same
 * run, in the journal's order.  Does select()'s bookkeeping without
 * choosing: reserves d->parent, counts the mode, and applies what
 * selecting d changed (a recall resets its branch's stagnation count, an
 * aggregation remembers its inputs and resets the global one, greedy's
 * debug takes its parent off the buggy leaves).  d's strings must be the
 * interned names (aml_mcgs_name).  The caller adds the node as after
 * select(), and integrates or leaves it pending. */
void aml_mcgs_replay(aml_mcgs *m, const aml_mcgs_decision *d);

/* Mix salt into the random stream: a resumed run draws anew (what the
 * earlier process drew is not recorded). */
void aml_mcgs_reseed(aml_mcgs *m, uint64_t salt);

/* The static string of an operator, mode or flavor name that decisions
 * carry ("draft", "primary", "features"...), or NULL for an unknown one. */
const char *aml_mcgs_name(const char *name);

/* The current exploration constant for budget fraction f. */
double aml_mcgs_c(const aml_mcgs_params *p, double f);

/* Counters for the run summary. */
typedef struct aml_mcgs_stats {
	uint32_t by_mode[4];          /* primary, evolution, reference, aggregation */
	uint32_t late_picks;          /* top-k picks in the late phase */
	uint32_t branches;
} aml_mcgs_stats;
void aml_mcgs_get_stats(const aml_mcgs *m, aml_mcgs_stats *st);

/* Global top-k node ids, best first (borrowed; *n set). */
const uint32_t *aml_mcgs_topk(const aml_mcgs *m, uint32_t *n);

const char *aml_policy_name(aml_policy p);

#endif
