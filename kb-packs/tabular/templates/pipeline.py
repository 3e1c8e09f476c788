# automlgen-recipe: {{recipe_json}}
# Written offline by kbsynth from knowledge-pack entries: {{entry_ids}}
"""{{title}}

A complete pipeline for data in CSV files: read ./input, detect numeric,
categorical and free-text columns (data entries may first add columns: image
pixels, calendar and lag features), preprocess them, validate the model(s) with {{validation_words}}
on the task metric, predict the test set (a refit on all training rows, or
the average of the fold models) and write ./submission/submission.csv with
exactly the sample submission's columns and row order.  Several models are
blended by averaging their probabilities or values, and the validation score
is the blend's.  The last line printed is the validation score.
"""
import json
import os
import sys
import time
import warnings

# Threads: AML_N_JOBS (default 1) for the models, and the same cap for the
# OpenMP/BLAS pools unless the environment already sets them.
N_JOBS = max(1, int(os.environ.get("AML_N_JOBS", "1") or "1"))
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, str(N_JOBS))

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split
from sklearn.multioutput import MultiOutputRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder, StandardScaler
from sklearn import metrics as skm

warnings.filterwarnings("ignore")

TASK = json.loads({{task_literal}})
RECIPE = json.loads({{recipe_literal}})
SEED = int(RECIPE["seed"])
SEEDS = [SEED]
N_FOLDS = int(RECIPE.get("folds", 5))
VALIDATION = RECIPE.get("validation", "cv")
TEST_FROM = RECIPE.get("test_from", "refit")        # or "folds": average the fold models
CLASS_WEIGHT = RECIPE.get("class_weight", "none")   # or "balanced", where a model takes it
INPUT_DIR, WORK_DIR, SUB_DIR = "./input", "./working", "./submission"
CLASSIFICATION = TASK["type"] in ("binary", "multiclass")
STARTED = time.time()


def log(msg):
    print("[%7.1fs] %s" % (time.time() - STARTED, msg), flush=True)


# ---------------------------------------------------------------- metrics
# y: class indices (classification) or an (n, targets) float array;
# p: an (n, classes) probability array or an (n, targets) float array.
def _labels(p):
    return np.asarray(p).argmax(axis=1)


def _rmse(y, p):
    return float(np.sqrt(np.mean((np.asarray(y, float) - np.asarray(p, float)) ** 2)))


def _qwk(y, p):
    if CLASSIFICATION:
        return skm.cohen_kappa_score(y, _labels(p), weights="quadratic")
    y = np.rint(np.asarray(y, float).ravel()).astype(int)
    q = np.rint(np.asarray(p, float).ravel())
    q = np.clip(q, y.min(), y.max()).astype(int)
    return skm.cohen_kappa_score(y, q, weights="quadratic")


def _auc(y, p):
    p = np.asarray(p)
    if p.shape[1] == 2:
        return skm.roc_auc_score(y, p[:, 1])
    return skm.roc_auc_score(y, p, multi_class="ovr", labels=list(range(p.shape[1])))


def _f1(y, p, average):
    if CLASSIFICATION:
        k = np.asarray(p).shape[1]
        if average == "binary" and k != 2:
            average = "macro"
        return skm.f1_score(y, _labels(p), average=average,
                            pos_label=k - 1 if average == "binary" else 1)
    return skm.f1_score(np.rint(y).ravel(), np.rint(p).ravel(), average=average)


def _logloss(y, p):
    p = np.clip(np.asarray(p, float), 1e-15, 1 - 1e-15)
    p = p / p.sum(axis=1, keepdims=True)
    return skm.log_loss(y, p, labels=list(range(p.shape[1])))


def _rmsle(y, p):
    y = np.clip(np.asarray(y, float), 0, None)
    p = np.clip(np.asarray(p, float), 0, None)
    return _rmse(np.log1p(y), np.log1p(p))


def _mcrmse(y, p):
    y = np.asarray(y, float).reshape(len(y), -1)
    p = np.asarray(p, float).reshape(len(p), -1)
    return float(np.mean([_rmse(y[:, j], p[:, j]) for j in range(y.shape[1])]))


METRICS = {  # name: (function, higher is better)
    "accuracy": (lambda y, p: skm.accuracy_score(y, _labels(p)), True),
    "roc_auc": (_auc, True),
    "log_loss": (_logloss, False),
    "f1": (lambda y, p: _f1(y, p, "binary"), True),
    "f1_macro": (lambda y, p: _f1(y, p, "macro"), True),
    "qwk": (_qwk, True),
    "rmse": (_rmse, False),
    "rmsle": (_rmsle, False),
    "mae": (lambda y, p: float(np.mean(np.abs(np.asarray(y, float) - np.asarray(p, float)))), False),
    "mse": (lambda y, p: float(np.mean((np.asarray(y, float) - np.asarray(p, float)) ** 2)), False),
    "r2": (lambda y, p: skm.r2_score(y, p), True),
    "mcrmse": (_mcrmse, False),
}
METRIC = TASK.get("metric") or ""
if METRIC not in METRICS:
    fallback = "accuracy" if CLASSIFICATION else "rmse"
    log("unknown metric %r: validating with %s instead" % (METRIC, fallback))
    METRIC = fallback


def score(y, p):
    return float(METRICS[METRIC][0](y, p))


# ------------------------------------------- preprocessing hooks (defaults)
# Data entries below may replace these.
FRAME_STEPS = []  # functions (train_X, test_X) -> (train_X, test_X)
# What FRAME_STEPS and SPLITTER may read besides the frames, set by main():
# input_dir, id_column, labels, train_ids and test_ids (row-aligned with the
# frames), train_y (the label column(s), or None), classification, and
# when a column holds dates: time_column, train_time and test_time (numpy
# datetime64 arrays, row-aligned; main() keeps train_time aligned when rows
# go).
CONTEXT = {}
FEATURE_STEPS = []  # functions (member) -> [(name, transformer)], fitted
                    # inside the pipeline after the column preprocessing
BLEND_WEIGHTS = None  # a strategy entry may set it: (list of per-model
                      # (n, k) out-of-fold predictions, y) -> model weights
SPLITTER = None   # a strategy entry may set it: (n, y_strat) -> [(train_idx,
                  # valid_idx)], or None for the default splits


def find_time_column(X):
    """The name of the column of X that holds dates, or None: text in a
    date format that parses for >= 90% of the rows."""
    pattern = r"^\s*(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})"
    for c in X.columns:
        if pd.api.types.is_datetime64_any_dtype(X[c]):
            return c
        if X[c].dtype != object:
            continue
        text = X[c].dropna().astype(str).iloc[:5000]
        if text.empty or text.str.match(pattern).mean() < 0.9:
            continue
        if pd.to_datetime(text, errors="coerce").notna().mean() >= 0.9:
            return c
    return None


def is_free_text(s):
    """A text column of long, spaced values: prose, not a category."""
    text = s.dropna().astype(str)
    if text.empty:
        return False
    text = text.iloc[:5000]
    return text.str.len().mean() > 40 and text.str.contains(" ").mean() >= 0.5


def text_transformers(X, cols, member):
    """Free-text columns: dropped unless a text entry replaces this."""
    return []


text_transformers.default = True


def numeric_transformer(scale):
    steps = [("impute", SimpleImputer(strategy="median"))]
    if scale:
        steps.append(("scale", StandardScaler()))
    return Pipeline(steps)


def categorical_transformers(X, cols, scale):
    if not cols:
        return []
    steps = [("impute", SimpleImputer(strategy="constant", fill_value="__missing__")),
             ("encode", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1))]
    return [("categorical", Pipeline(steps), cols)]


def use_log_target(Y):
    return False


# ------------------------------------------------------ data entries
{{data_code}}

# ------------------------------------------------------ model entries
# Each model entry defines make_model(classification, seed),
# MODEL_NEEDS_SCALING and MODEL_MULTI_OUTPUT, then register_model() files
# them in MODELS; with several models the pipeline blends them.
MODELS = []


def register_model(name):
    # MODEL_SPARSE_OK (optional, default False): the model takes a sparse
    # matrix, so text features stay sparse instead of being reduced.
    MODELS.append({"name": name, "make": make_model, "scaling": MODEL_NEEDS_SCALING,
                   "multi_output": MODEL_MULTI_OUTPUT,
                   "sparse_ok": bool(globals().pop("MODEL_SPARSE_OK", False))})


{{model_code}}
if not MODELS:  # a script whose model code does not register itself
    register_model(RECIPE.get("model", "model"))

# ------------------------------------------------------ strategy entries
{{strategy_code}}

# ------------------------------------------------------ the pipeline
def read_inputs():
    def path(key):
        return os.path.join(INPUT_DIR, TASK[key])
    sample = pd.read_csv(path("sample_file"), dtype=str, keep_default_na=False)
    id_col = TASK.get("id_column")
    head = pd.read_csv(path("train_file"), nrows=0).columns
    test_head = pd.read_csv(path("test_file"), nrows=0).columns
    labels = [c for c in (TASK.get("label_columns") or []) if c in head]
    if not labels:  # fall back to the columns only train has
        labels = [c for c in head if c not in test_head and c != id_col]
    if not labels:
        sys.exit("cannot tell the label column(s) of %s" % TASK["train_file"])
    as_text = {c: str for c in labels} if CLASSIFICATION else {}
    if id_col:
        as_text[id_col] = str
    train = pd.read_csv(path("train_file"), dtype=as_text)
    test = pd.read_csv(path("test_file"), dtype={id_col: str} if id_col else None)
    return train, test, sample, id_col, labels


def coerce_types(Xtr, Xte):
    """Split columns into numeric, categorical and free text, the same way
    in both frames."""
    num, cat, text = [], [], []
    for c in list(Xtr.columns):
        s = Xtr[c]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            Xtr[c] = s.astype(float)
            Xte[c] = pd.to_numeric(Xte[c], errors="coerce").astype(float)
            num.append(c)
            continue
        conv = pd.to_numeric(s, errors="coerce")
        present = s.notna().sum()
        if present and conv.notna().sum() >= 0.98 * present:
            Xtr[c] = conv.astype(float)
            Xte[c] = pd.to_numeric(Xte[c], errors="coerce").astype(float)
            num.append(c)
            continue
        for X in (Xtr, Xte):
            X[c] = X[c].where(X[c].isna(), X[c].astype(str)).astype(object)
        (text if is_free_text(Xtr[c]) else cat).append(c)
    return num, cat, text


def natural_sort(values):
    try:
        return sorted(values, key=float)
    except (TypeError, ValueError):
        return sorted(values)


UNWEIGHTED = set()  # models that take no class weights (logged once)


def build_pipeline(X, cols, member, seed, n_targets):
    num, cat, text = cols
    parts = []
    if num:
        parts.append(("numeric", numeric_transformer(member["scaling"]), num))
    parts += categorical_transformers(X, cat, member["scaling"])
    text_parts = text_transformers(X, text, member) if text else []
    parts += text_parts
    # sparse output only for text features and a model that takes it
    sparse = 0.3 if text_parts and member.get("sparse_ok") else 0.0
    prep = ColumnTransformer(parts, remainder="drop", sparse_threshold=sparse)
    model = member["make"](CLASSIFICATION, seed)
    if CLASSIFICATION and CLASS_WEIGHT != "none":
        if "class_weight" in model.get_params():
            model.set_params(class_weight=CLASS_WEIGHT)
        elif member["name"] not in UNWEIGHTED:
            UNWEIGHTED.add(member["name"])
            log("%s takes no class weights; fitted unweighted" % member["name"])
    if not CLASSIFICATION and n_targets > 1 and not member["multi_output"]:
        model = MultiOutputRegressor(model)
    steps = [("prep", prep)]
    for make in FEATURE_STEPS:
        steps += make(member)
    return Pipeline(steps + [("model", model)])


def fit_predict(X, y, X_preds, cols, n_out, log_target):
    """Fit every model of MODELS once per seed on (X, y) and predict each
    frame of X_preds.  Returns, per model, the list of the frames'
    predictions averaged over the seeds: (n, classes) probabilities or
    (n, targets) values."""
    if CLASSIFICATION:
        present = np.unique(y)  # fit on contiguous codes, map back
        y_fit = np.searchsorted(present, y)
    else:
        y_fit = np.log1p(np.clip(y, 0, None)) if log_target else y
        if y_fit.shape[1] == 1:
            y_fit = y_fit[:, 0]
    per_model = []
    for member in MODELS:
        outs = [np.zeros((len(Xp), n_out)) for Xp in X_preds]
        fits = 0
        for s in SEEDS:
            fits += 1
            if CLASSIFICATION and len(present) == 1:
                for o in outs:
                    o[:, present[0]] += 1.0
                continue
            pipe = build_pipeline(X, cols, member, s, n_out)
            pipe.fit(X, y_fit)
            for o, Xp in zip(outs, X_preds):
                if CLASSIFICATION:
                    o[:, present] += pipe.predict_proba(Xp)
                else:
                    p = np.asarray(pipe.predict(Xp), float).reshape(len(Xp), -1)
                    o += np.expm1(p) if log_target else p
            if not uses_seed(pipe):
                break  # the same fit for every seed: once is enough
        per_model.append([o / fits for o in outs])
    return per_model


def uses_seed(pipe):
    """Whether any step of the fitted pipeline takes a random_state."""
    try:
        return any(k == "random_state" or k.endswith("__random_state")
                   for k in pipe.get_params(deep=True))
    except Exception:
        return True


WEIGHTS = None  # the blend's model weights; None: equal


def blend(per_model, frame, weights=None):
    """The models' predictions for one frame, averaged (probabilities or
    values; labels are the argmax of the averaged probabilities), with
    weights (or WEIGHTS) when set."""
    w = weights if weights is not None else WEIGHTS
    return np.average([preds[frame] for preds in per_model], axis=0, weights=w)


def best_cutoff(y, p1):
    """(cut-off, F1) of the best cut-off on positive-class probabilities
    p1; ties go to the one nearest 0.5."""
    grid = np.linspace(0.05, 0.95, 91)
    pos = np.asarray(y) == 1
    pred = np.asarray(p1)[None, :] >= grid[:, None]  # all cut-offs at once
    tp = (pred & pos).sum(axis=1)
    wrong = (pred & ~pos).sum(axis=1) + (~pred & pos).sum(axis=1)
    f1s = np.where(tp > 0, 2.0 * tp / np.maximum(2 * tp + wrong, 1), 0.0)
    best = np.flatnonzero(f1s >= np.max(f1s) - 1e-12)
    pick = best[np.argmin(np.abs(grid[best] - 0.5))]
    return float(grid[pick]), float(f1s[pick])


def tunes_cutoff():
    """Binary F1 on labels: main() picks the cut-off on the out-of-fold
    probabilities, so the score of probabilities is at their best cut-off."""
    return CLASSIFICATION and METRIC == "f1" and TASK.get("output", "label") == "label"


def blend_objective(y, p):
    """What the pipeline will report for out-of-fold predictions p: the
    metric, at the best cut-off when main() tunes one.  Blend weights are
    fitted to this."""
    p = np.asarray(p)
    if tunes_cutoff() and p.ndim == 2 and p.shape[1] == 2:
        return best_cutoff(y, p[:, 1])[1]
    return score(y, p)


def short(name):
    return name.rsplit(".", 1)[-1]


def make_splits(n, y_strat):
    if SPLITTER is not None:
        splits = SPLITTER(n, y_strat)
        if splits:
            return splits
    idx = np.arange(n)
    if VALIDATION == "holdout" or N_FOLDS < 2:
        strat = y_strat
        if strat is not None and np.bincount(strat).min() < 2:
            strat = None
        tr, va = train_test_split(idx, test_size=0.2, random_state=SEED, stratify=strat)
        return [(tr, va)]
    k = min(N_FOLDS, n)
    if y_strat is not None:
        smallest = np.bincount(y_strat).min()
        if smallest >= 2:
            k = min(k, smallest)
            return list(StratifiedKFold(k, shuffle=True, random_state=SEED).split(idx, y_strat))
    return list(KFold(k, shuffle=True, random_state=SEED).split(idx))


def class_columns(sub_cols, classes, label):
    """Map each probability column of the sample to a class index."""
    found = {}
    for col in sub_cols:
        low = col.lower()
        for i, c in enumerate(classes):
            c = str(c).lower()
            if low in (c, "%s_%s" % (label.lower(), c), "class_" + c, "prob_" + c,
                       "p_" + c, "proba_" + c) or low.endswith("_" + c):
                found[col] = i
                break
    if len(found) == len(sub_cols) and len(set(found.values())) == len(sub_cols):
        return found
    if len(sub_cols) == len(classes):  # same count: the sorted order
        return {col: i for i, col in enumerate(sub_cols)}
    sys.exit("cannot map the sample's columns %s to the classes %s" % (sub_cols, classes))


def main():
    os.makedirs(WORK_DIR, exist_ok=True)
    os.makedirs(SUB_DIR, exist_ok=True)
    train, test, sample, id_col, labels = read_inputs()
    log("train %s, test %s, sample %s; labels %s; metric %s (%s)" % (
        train.shape, test.shape, sample.shape, labels, METRIC,
        "higher is better" if METRICS[METRIC][1] else "lower is better"))
    train = train.dropna(subset=labels).reset_index(drop=True)
    features = [c for c in train.columns
                if c in test.columns and c != id_col and c not in labels]
    Xtr, Xte = train[features].copy(), test[features].copy()
    CONTEXT.update(input_dir=INPUT_DIR, id_column=id_col, labels=labels,
                   classification=CLASSIFICATION,
                   train_ids=train[id_col].values if id_col in train.columns else None,
                   test_ids=test[id_col].values if id_col in test.columns else None,
                   train_y=train[labels].copy())
    time_col = find_time_column(Xtr)
    if time_col is not None:
        CONTEXT.update(time_column=time_col,
                       train_time=pd.to_datetime(Xtr[time_col], errors="coerce").values,
                       test_time=pd.to_datetime(Xte[time_col], errors="coerce").values)
    for step in FRAME_STEPS:
        Xtr, Xte = step(Xtr, Xte)
    cols = coerce_types(Xtr, Xte)
    num, cat, text = cols
    log("%d numeric, %d categorical and %d free-text features" % (
        len(num), len(cat), len(text)))
    if text and getattr(text_transformers, "default", False):
        log("no text entry: free-text columns %s are not used" % text)
        if not num and not cat:
            sys.exit("the only features are free text %s and no text entry "
                     "turns them into numbers" % text)
    if not num and not cat and not text:
        sys.exit("no feature columns shared by train and test")

    if CLASSIFICATION:
        raw = train[labels[0]].astype(str).str.strip().values
        classes = natural_sort(np.unique(raw))
        y = pd.Series(raw).map({c: i for i, c in enumerate(classes)}).values.astype(int)
        n_out, y_strat, log_target = len(classes), y, False
        log("%d classes: %s" % (len(classes), classes[:10]))
    else:
        y = train[labels].apply(pd.to_numeric, errors="coerce").values.astype(float)
        keep = ~np.isnan(y).any(axis=1)
        Xtr, y = Xtr[keep].reset_index(drop=True), y[keep]
        if CONTEXT.get("train_time") is not None:
            CONTEXT["train_time"] = np.asarray(CONTEXT["train_time"])[keep]
        n_out, y_strat = y.shape[1], None
        log_target = METRIC == "rmsle" or bool(use_log_target(y))
        if log_target:
            log("fitting the target(s) on log1p scale")

    if len(MODELS) > 1:
        log("blending %d models: %s" % (len(MODELS), ", ".join(m["name"] for m in MODELS)))
    splits = make_splits(len(Xtr), y_strat)
    from_folds = TEST_FROM == "folds" and len(splits) > 1
    fold_scores, fold_tests = [], []
    model_scores = [[] for _ in MODELS]
    oof = np.full((len(Xtr), n_out), np.nan)
    model_oof = [np.full((len(Xtr), n_out), np.nan) for _ in MODELS]
    for f, (tr, va) in enumerate(splits):
        frames = [Xtr.iloc[va]] + ([Xte] if from_folds else [])
        per_model = fit_predict(Xtr.iloc[tr], y[tr], frames, cols, n_out, log_target)
        pred = blend(per_model, 0)
        oof[va] = pred
        for m, preds in enumerate(per_model):
            model_oof[m][va] = preds[0]
        if from_folds:
            fold_tests.append([preds[1] for preds in per_model])
        fold_scores.append(score(y[va], pred))
        line = "fold %d: %s = %.6f" % (f + 1, METRIC, fold_scores[-1])
        if len(MODELS) > 1:
            for m, preds in enumerate(per_model):
                model_scores[m].append(score(y[va], preds[0]))
            line += " (%s)" % ", ".join("%s %.6f" % (short(MODELS[m]["name"]), s[-1])
                                        for m, s in enumerate(model_scores))
        log(line)
    cv = float(np.mean(fold_scores))
    log("validation %s: %.6f +- %.6f over %d fold(s)" % (
        METRIC, cv, float(np.std(fold_scores)), len(fold_scores)))
    for m, s in enumerate(model_scores):
        if s:
            log("  %s alone: %.6f" % (MODELS[m]["name"], float(np.mean(s))))
    if BLEND_WEIGHTS is not None and len(MODELS) > 1 and len(splits) > 1:
        # weights fitted on the other folds' predictions score each fold,
        # so the validation score stays out of sample
        global WEIGHTS
        crossed = []
        for tr, va in splits:
            rest = np.setdiff1d(np.flatnonzero(~np.isnan(oof[:, 0])), va)
            w = np.asarray(BLEND_WEIGHTS([p[rest] for p in model_oof], y[rest]), float)
            crossed.append(score(y[va], blend([[p[va]] for p in model_oof], 0, w)))
        seen = ~np.isnan(oof[:, 0])
        WEIGHTS = np.asarray(BLEND_WEIGHTS([p[seen] for p in model_oof], y[seen]), float)
        cv = float(np.mean(crossed))
        oof[seen] = blend([[p[seen]] for p in model_oof], 0)
        log("blend weights %s: validation %s %.6f" % (
            ", ".join("%s %.2f" % (short(m["name"]), w) for m, w in zip(MODELS, WEIGHTS)),
            METRIC, cv))
    threshold = None
    if n_out == 2 and tunes_cutoff():
        # F1 depends on the cut-off: pick it on the out-of-fold probabilities
        seen = ~np.isnan(oof[:, 1])
        threshold, cv = best_cutoff(y[seen], oof[seen, 1])
        log("F1 cut-off %.2f on out-of-fold probabilities: f1 %.6f" % (threshold, cv))

    if from_folds:
        log("test predictions: the average of the %d fold models" % len(fold_tests))
        test_pred = blend([[np.mean([ft[m] for ft in fold_tests], axis=0)]
                           for m in range(len(MODELS))], 0)
    else:
        test_pred = blend(fit_predict(Xtr, y, [Xte], cols, n_out, log_target), 0)
    np.save(os.path.join(WORK_DIR, "oof_pred.npy"), oof)
    np.save(os.path.join(WORK_DIR, "test_pred.npy"), test_pred)

    # align the predictions with the sample's rows
    if id_col and id_col in sample.columns and id_col in test.columns:
        pos = pd.Series(np.arange(len(test)), index=test[id_col].astype(str).str.strip())
        pos = pos[~pos.index.duplicated()]
        want = sample[id_col].astype(str).str.strip()
        missing = ~want.isin(pos.index)
        if missing.any():
            sys.exit("%d sample ids are not in the test set, e.g. %s" % (
                int(missing.sum()), want[missing].iloc[0]))
        test_pred = test_pred[pos.loc[want].values]
    elif len(sample) != len(test):
        sys.exit("sample has %d rows, test %d, and no shared id column" % (len(sample), len(test)))

    sub_cols = [c for c in (TASK.get("submission_columns") or []) if c in sample.columns]
    if not sub_cols:
        sub_cols = [c for c in sample.columns if c != id_col]
    sub = sample.copy()
    output = TASK.get("output", "label")
    if CLASSIFICATION and output == "label":
        if threshold is not None:
            picked = (test_pred[:, 1] >= threshold).astype(int)
        else:
            picked = test_pred.argmax(axis=1)
        names = np.array(classes, dtype=object)[picked]
        for col in sub_cols:
            sub[col] = names
    elif CLASSIFICATION and output == "proba":
        sub[sub_cols[0]] = test_pred[:, -1]  # the larger label is positive
    elif CLASSIFICATION:
        p = test_pred / np.clip(test_pred.sum(axis=1, keepdims=True), 1e-12, None)
        for col, i in class_columns(sub_cols, classes, labels[0]).items():
            sub[col] = p[:, i]
    else:
        for j, col in enumerate(sub_cols):
            k = labels.index(col) if col in labels else min(j, n_out - 1)
            sub[col] = test_pred[:, k]
    sub = sub[list(sample.columns)]
    sub.to_csv(os.path.join(SUB_DIR, "submission.csv"), index=False)
    log("wrote %s/submission.csv: %d rows, columns %s" % (SUB_DIR, len(sub), list(sub.columns)))
    print("Final Validation Score: %.6f" % cv, flush=True)


if __name__ == "__main__":
    main()
