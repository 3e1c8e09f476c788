#!/usr/bin/env python3
"""make-thresholds.py TASKS_DIR — naive and reference scores, and medal
cut-offs, for each task of a suite; read by `automlgen bench`.

For every task folder in TASKS_DIR (MLE-bench's prepared layout, as
scripts/make-example-tasks.py writes it: public/train.csv, test.csv,
sample_submission.csv, description.md and private/answers.csv) this writes
TASK_DIR/thresholds.json:

    {"metric": "accuracy", "higher_is_better": true,
     "naive": 0.3333, "reference": 0.9667,
     "bronze": 0.8083, "silver": 0.9033, "gold": 0.9667,
     "naive_model": "...", "reference_model": "...", "rule": "..."}

Both scores are test scores: the predictions are graded against
private/answers.csv with the task's metric.

  naive      the best trivial predictor, fitted on train alone:
               accuracy, f1, f1_macro, qwk  the constant label that scores
                                            best on train (accuracy: the
                                            majority class; f1: the positive
                                            class)
               log_loss, roc_auc            the train class priors, for
                                            every row
               rmse, mse, mcrmse, r2        the train mean
               mae                          the train median
               rmsle                        expm1 of the train mean of log1p
  reference  a small tuned scikit-learn pipeline, by the task's modality,
             the best parameters refitted on all of train:
               tabular     median/most-frequent imputation, scaling, one-hot
                           categoricals, dates as numbers, then a 3-fold
                           grid search on train, scored by the task's
                           metric, over a linear model (LogisticRegression
                           C in {0.1, 1, 10} or Ridge alpha in {0.1, 1, 10})
                           and a random forest (200 trees, min_samples_leaf
                           in {1, 3}).
               text        the free-text columns alone: TF-IDF of word 1-2
                           grams and of char_wb 2-5 grams (sublinear tf,
                           min_df 2), then LogisticRegression (C in
                           {0.25, 1, 4}) or Ridge (alpha in {0.25, 1, 4}),
                           3-fold grid search.
               image       images kept as files (public/<part>/<id>.<ext>):
                           grey pixels in [0, 1] (resized to the first
                           image's size if they differ), then an RBF SVC or
                           SVR, C in {1, 10, 100}, 3-fold grid search.
               timeseries  one daily series (a date column, one row a day),
                           regression: calendar features (day of week,
                           month, day of year, year, trend, US federal
                           holidays and the distance to the nearest one),
                           the numeric columns, and lags of the target of
                           at least the horizon H (the days from the last
                           train date to the last test date): H rounded up
                           to whole weeks, +7, +14, 364 and 728 days, and
                           the mean of the same weekday 0-4 weeks past that
                           first lag; then HistGradientBoostingRegressor
                           (500 iterations, learning_rate in {0.03, 0.1},
                           max_leaf_nodes in {15, 31}), chosen on the last
                           H days of train held out.  Other time series
                           tasks get the tabular reference.
             The modality is `automlgen inspect`'s (image here means image
             files: pixel columns are tabular); without it, it is inferred
             here with core/task.c's rules.
  cut-offs   gold   = reference
             silver = naive + 0.90 (reference - naive)
             bronze = naive + 0.75 (reference - naive)
             (so normalized scores of 0.75, 0.90 and 1 in `automlgen bench`;
             this holds in both metric directions).

Task facts (metric, direction, id and target columns, output kind, the
class of each probability column) come from `$AUTOMLGEN_BIN inspect TASK
--json` when the environment names an automlgen binary, and the grading
from `$AUTOMLGEN_BIN grade TASK SUB --json`, i.e. the very code the bench
grades with.  Without it they are inferred here the way the example tasks
are written (metric from description.md's words, the target as the train
column test.csv lacks, ...), and the metric is computed here with the
definitions of core/metric.h.

Deterministic: fixed seeds, one thread, sorted task order, scores written
to 12 significant digits.  Run it with an
interpreter that has numpy, pandas and scikit-learn (/usr/bin/python3 on
Debian), and PIL (python3-pil) for image tasks.  Exit status: 0 when every task got a file, 1 when some failed
(each failure is one line on stderr), 2 on bad usage.
"""
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (HistGradientBoostingRegressor, RandomForestClassifier,
                              RandomForestRegressor)
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.metrics import make_scorer
from sklearn.model_selection import GridSearchCV, KFold, PredefinedSplit, StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import SVC, SVR
from threadpoolctl import threadpool_limits

SEED = 0
SILVER = 0.90
BRONZE = 0.75
RULE = ("gold = reference; silver = naive + 0.90 (reference - naive); "
        "bronze = naive + 0.75 (reference - naive)")

HIGHER = {"accuracy": True, "roc_auc": True, "f1": True, "f1_macro": True,
          "qwk": True, "r2": True, "log_loss": False, "rmse": False,
          "rmsle": False, "mae": False, "mse": False, "mcrmse": False}
CLASSIFICATION = {"accuracy", "roc_auc", "log_loss", "f1", "f1_macro", "qwk"}

# description.md words -> metric, most specific first (as the examples say it)
METRIC_WORDS = [
    ("mcrmse", r"mcrmse|mean columnwise root mean squared"),
    ("rmsle", r"rmsle|root mean squared logarithmic|root mean squared log error"),
    ("rmse", r"\brmse\b|root mean squared error"),
    ("log_loss", r"log(arithmic)?[ -]loss"),
    ("roc_auc", r"roc|area under the (roc )?curve"),
    ("f1_macro", r"macro[- ]f1|f1[- ]macro"),
    ("f1", r"\bf1\b"),
    ("qwk", r"quadratic weighted kappa"),
    ("mae", r"\bmae\b|mean absolute error"),
    ("mse", r"\bmse\b|mean squared error"),
    ("r2", r"\br2\b|r\^2|coefficient of determination"),
    ("accuracy", r"accuracy"),
]


# core/task.c's modality rules
TEXT_MEAN_LEN = 40
IMAGE_FILES = 5
IMAGE_EXT = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")
TS_WORDS = ("forecast", "forecasting", "time series", "time-series", "timeseries")
DATE_NAMES = ("date", "time", "timestamp", "datetime", "ds", "day", "dt")
DATE_RE = r"^\d{4}-\d{2}-\d{2}"


class TaskError(Exception):
    pass


# --------------------------------------------------------------------------
# Task facts

def inspect_with(binary, task_dir):
    """The task profile from `automlgen inspect --json`."""
    out = subprocess.run([binary, "inspect", task_dir, "--json"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise TaskError("automlgen inspect: " + out.stderr.strip())
    p = json.loads(out.stdout)
    return {
        "metric": p["metric"],
        "higher_is_better": bool(p["higher_is_better"]),
        "id_column": p.get("id_column"),
        "label_columns": list(p["label_columns"]),
        "submission_columns": list(p["submission_columns"]),
        "output": p["output"],
        "classes": list(p.get("classes") or []),
        "column_classes": dict(p.get("column_classes") or {}),
        "train_file": p.get("train_file") or "train.csv",
        "test_file": p.get("test_file") or "test.csv",
        "sample_file": p.get("sample_file") or "sample_submission.csv",
        "modality": list(p.get("modality") or ["tabular"]),
    }


def metric_from_text(text):
    low = text.lower()
    m = re.search(r"## evaluation\s*\n(.*?)(\n## |\Z)", low, re.S)
    for part in ([m.group(1)] if m else []) + [low]:
        for name, pattern in METRIC_WORDS:
            if re.search(pattern, part):
                return name
    raise TaskError("no metric named in description.md")


def image_files(pub, depth=2):
    """{file name without extension: path} of the image files under pub, to
    depth levels below it, in sorted order."""
    found = {}
    for name in sorted(os.listdir(pub)):
        path = os.path.join(pub, name)
        if name.startswith("."):
            continue
        if name.lower().endswith(IMAGE_EXT):
            found.setdefault(os.path.splitext(name)[0], path)
        elif depth > 0 and os.path.isdir(path):
            for k, v in image_files(path, depth - 1).items():
                found.setdefault(k, v)
    return found


def is_text(col):
    s = col.dropna().astype(str)
    if not len(s):
        return False
    numeric = pd.to_numeric(s, errors="coerce").notna().sum()
    return (numeric * 10 <= len(s) and s.str.len().sum() > TEXT_MEAN_LEN * len(s)
            and s.str.contains(" ").sum() * 2 >= len(s))


def date_column(df, cols):
    """The first column named like a date or holding yyyy-mm-dd values."""
    for c in cols:
        s = df[c].dropna().astype(str)
        if len(s) and (c.lower() in DATE_NAMES or c.lower().endswith(("_date", "_time", "datetime"))
                       or s.str.match(DATE_RE).sum() * 10 >= len(s) * 9):
            return c
    return None


def infer_modality(pub, description, train, feats):
    """core/task.c's modality: text, image, timeseries, else tabular."""
    mod = []
    if any(is_text(train[c]) for c in feats):
        mod.append("text")
    pixels = sum(1 for c in feats if re.match(r"^(pixel|px)_?\d[\dx_]*$", c, re.I))
    files = pixels < 64 and len(image_files(pub)) >= IMAGE_FILES
    if pixels >= 64 or files:
        mod.append("image")
    low = description.lower()
    if date_column(train, feats) is not None and any(
            re.search(r"(?<!\w)" + re.escape(w) + r"(?!\w)", low) for w in TS_WORDS):
        mod.append("timeseries")
    if not mod or not files:
        mod.append("tabular")
    return mod


def infer(task_dir):
    """The task profile from the files alone, the way the examples are made."""
    pub = os.path.join(task_dir, "public")
    with open(os.path.join(pub, "description.md")) as f:
        description = f.read()
    metric = metric_from_text(description)
    train = pd.read_csv(os.path.join(pub, "train.csv"), nrows=5000)
    test = pd.read_csv(os.path.join(pub, "test.csv"), nrows=5)
    sample = pd.read_csv(os.path.join(pub, "sample_submission.csv"), nrows=5)
    id_col = sample.columns[0] if sample.columns[0] in test.columns else None
    labels = [c for c in train.columns if c not in test.columns]
    if not labels:
        raise TaskError("train.csv has no column test.csv lacks: no target")
    pred_cols = [c for c in sample.columns if c != id_col]
    classes, colcls = [], {}
    if metric in CLASSIFICATION:
        classes = sorted(map(str, pd.read_csv(os.path.join(pub, "train.csv"),
                                              usecols=[labels[0]])[labels[0]].unique()))
    if metric in CLASSIFICATION and len(pred_cols) > 1:
        output = "class_proba"
        for c in pred_cols:
            hit = [k for k in classes if c == k or c.endswith("_" + k)]
            if len(hit) != 1:
                raise TaskError(f"cannot tell the class of column {c}")
            colcls[c] = hit[0]
    elif metric in ("roc_auc", "log_loss"):
        output = "proba"
    elif metric in CLASSIFICATION:
        output = "label"
    else:
        output = "value"
    feats = [c for c in train.columns if c != id_col and c not in labels]
    return {"metric": metric, "higher_is_better": HIGHER[metric], "id_column": id_col,
            "label_columns": labels, "submission_columns": pred_cols, "output": output,
            "classes": classes, "column_classes": colcls, "train_file": "train.csv",
            "test_file": "test.csv", "sample_file": "sample_submission.csv",
            "modality": infer_modality(pub, description, train, feats)}


def positive_label(labels):
    """core/metric.h's positive class: spelled like one, else the larger."""
    labels = list(labels)
    for s in labels:
        t = str(s).strip().lower()
        if t in ("true", "yes", "y", "pos", "positive"):
            return s
        try:
            if float(t) == 1.0:
                return s
        except ValueError:
            pass
    try:
        return max(labels, key=lambda s: float(s))
    except ValueError:
        return max(labels, key=str)


# --------------------------------------------------------------------------
# Metrics (used without AUTOMLGEN_BIN; core/metric.h's definitions)

def _auc(truth01, score):
    from scipy.stats import rankdata
    truth01 = np.asarray(truth01, dtype=bool)
    npos, nneg = truth01.sum(), (~truth01).sum()
    if npos == 0 or nneg == 0:
        raise TaskError("roc_auc needs both classes in the truth")
    ranks = rankdata(score)
    return (ranks[truth01].sum() - npos * (npos + 1) / 2.0) / (npos * nneg)


def _f1(t, p, pos):
    tp = sum(1 for a, b in zip(t, p) if a == pos and b == pos)
    fp = sum(1 for a, b in zip(t, p) if a != pos and b == pos)
    fn = sum(1 for a, b in zip(t, p) if a == pos and b != pos)
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def _qwk(t, p):
    t = np.asarray(t, dtype=float).astype(int)
    p = np.asarray(p, dtype=float).astype(int)
    lo, hi = min(t.min(), p.min()), max(t.max(), p.max())
    n = hi - lo + 1
    if n == 1:
        return 1.0
    o = np.zeros((n, n))
    for a, b in zip(t - lo, p - lo):
        o[a, b] += 1
    w = np.array([[(i - j) ** 2 / (n - 1) ** 2 for j in range(n)] for i in range(n)])
    e = np.outer(o.sum(1), o.sum(0)) / o.sum()
    return 1 - (w * o).sum() / (w * e).sum()


def labels_key(v):
    """Labels compare as strings, numbers by value."""
    try:
        f = float(v)
        return repr(f) if math.isfinite(f) else str(v)
    except (TypeError, ValueError):
        return str(v)


def score_here(info, answers, sub):
    metric, out = info["metric"], info["output"]
    idc = info["id_column"]
    if idc is not None:
        sub = sub.set_index(idc).loc[answers[idc].values].reset_index()
    cols = info["submission_columns"]
    if metric in CLASSIFICATION:
        tcol = info["label_columns"][0] if out == "class_proba" else cols[0]
        truth = [labels_key(v) for v in answers[tcol].values]
        classes = [labels_key(c) for c in info["classes"]]
        if out == "class_proba":
            colcls = [labels_key(info["column_classes"][c]) for c in cols]
            P = sub[cols].to_numpy(dtype=float)
            if metric == "log_loss":
                P = np.clip(P, 1e-15, 1 - 1e-15)
                P = P / P.sum(1, keepdims=True)
                idx = [colcls.index(t) for t in truth]
                return float(-np.mean(np.log(P[np.arange(len(truth)), idx])))
            if metric == "roc_auc":
                aucs = [_auc([t == c for t in truth], P[:, k])
                        for k, c in enumerate(colcls)
                        if 0 < sum(t == c for t in truth) < len(truth)]
                return float(np.mean(aucs))
            pred = [colcls[k] for k in P.argmax(1)]
        elif out == "proba":
            pos = labels_key(positive_label(info["classes"] or set(truth)))
            p = sub[cols[0]].to_numpy(dtype=float)
            y = np.array([t == pos for t in truth])
            if metric == "roc_auc":
                return float(_auc(y, p))
            if metric == "log_loss":
                p = np.clip(p, 1e-15, 1 - 1e-15)
                return float(-np.mean(np.where(y, np.log(p), np.log(1 - p))))
            neg = [c for c in classes if c != pos]
            pred = [pos if v >= 0.5 else (neg[0] if neg else "") for v in p]
        else:
            pred = [labels_key(v) for v in sub[cols[0]].values]
        if metric == "accuracy":
            return float(np.mean([a == b for a, b in zip(truth, pred)]))
        if metric == "f1":
            seen = classes or sorted(set(truth) | set(pred))
            return float(_f1(truth, pred, labels_key(positive_label(seen))))
        if metric == "f1_macro":
            return float(np.mean([_f1(truth, pred, c) for c in sorted(set(truth) | set(pred))]))
        if metric == "qwk":
            return float(_qwk(truth, pred))
        raise TaskError(f"metric {metric} needs probabilities")
    T = answers[cols].to_numpy(dtype=float)
    P = sub[cols].to_numpy(dtype=float)
    per = []
    for k in range(T.shape[1]):
        t, p = T[:, k], P[:, k]
        if metric in ("rmse", "mcrmse"):
            per.append(math.sqrt(np.mean((t - p) ** 2)))
        elif metric == "mse":
            per.append(np.mean((t - p) ** 2))
        elif metric == "mae":
            per.append(np.mean(np.abs(t - p)))
        elif metric == "rmsle":
            if (t < 0).any() or (p < 0).any():
                raise TaskError("rmsle refuses negative values")
            per.append(math.sqrt(np.mean((np.log1p(t) - np.log1p(p)) ** 2)))
        elif metric == "r2":
            ss = np.sum((t - t.mean()) ** 2)
            res = np.sum((t - p) ** 2)
            per.append((1.0 if res == 0 else 0.0) if ss == 0 else 1 - res / ss)
        else:
            raise TaskError(f"unknown metric {metric}")
    return float(np.mean(per))


def grade(binary, task_dir, info, sub_df):
    """The test score of sub_df."""
    with tempfile.TemporaryDirectory(prefix="aml-thresholds-") as tmp:
        path = os.path.join(tmp, "submission.csv")
        sub_df.to_csv(path, index=False)
        if binary:
            out = subprocess.run([binary, "grade", task_dir, path, "--json"],
                                 capture_output=True, text=True)
            try:
                res = json.loads(out.stdout)
            except ValueError:
                raise TaskError("automlgen grade: " + out.stderr.strip())
            if not res.get("valid"):
                raise TaskError("automlgen grade: " + str(res.get("reason")))
            return float(res["score"])
        answers = pd.read_csv(os.path.join(task_dir, "private", "answers.csv"))
        return score_here(info, answers, pd.read_csv(path))


# --------------------------------------------------------------------------
# Predictors

def features(info, train, test):
    drop = set(info["label_columns"]) | ({info["id_column"]} if info["id_column"] else set())
    cols = [c for c in train.columns if c not in drop and c in test.columns]
    X, Xt = train[cols].copy(), test[cols].copy()
    for c in cols:
        if X[c].dtype == object:
            s = X[c].dropna().astype(str)
            if len(s) and s.str.match(r"^\d{4}-\d{2}-\d{2}").all():
                for d in (X, Xt):
                    t = pd.to_datetime(d[c], errors="coerce")
                    d[c + "_days"] = (t - pd.Timestamp("1970-01-01")).dt.days
                    d[c + "_month"] = t.dt.month
                    del d[c]
    num = [c for c in X.columns if X[c].dtype != object]
    cat = [c for c in X.columns if X[c].dtype == object]
    pre = ColumnTransformer([
        ("num", Pipeline([("impute", SimpleImputer(strategy="median")),
                          ("scale", StandardScaler())]), num),
        ("cat", Pipeline([("impute", SimpleImputer(strategy="most_frequent")),
                          ("onehot", OneHotEncoder(handle_unknown="ignore"))]), cat),
    ])
    return X, Xt, pre


def scorer(info, pos):
    m = info["metric"]
    if m == "accuracy":
        return "accuracy"
    if m == "f1":
        from sklearn.metrics import f1_score
        return make_scorer(f1_score, pos_label=pos)
    if m == "f1_macro":
        return "f1_macro"
    if m == "qwk":
        from sklearn.metrics import cohen_kappa_score
        return make_scorer(cohen_kappa_score, weights="quadratic")
    if m == "roc_auc":
        return "roc_auc" if info["output"] == "proba" else "roc_auc_ovr"
    if m == "log_loss":
        return "neg_log_loss"
    if m in ("rmse", "mcrmse"):
        return "neg_root_mean_squared_error"
    if m == "mse":
        return "neg_mean_squared_error"
    if m == "mae":
        return "neg_mean_absolute_error"
    if m == "r2":
        return "r2"
    if m == "rmsle":
        return make_scorer(lambda t, p: -math.sqrt(np.mean(
            (np.log1p(np.clip(t, 0, None)) - np.log1p(np.clip(p, 0, None))) ** 2)))
    raise TaskError(f"unknown metric {m}")


def submission(info, test, sample, pred, proba=None, classes=None):
    """A submission in the sample's layout from labels/values or probabilities."""
    out = pd.DataFrame()
    if info["id_column"] is not None:
        out[info["id_column"]] = test[info["id_column"]].values
    cols = info["submission_columns"]
    if info["output"] == "class_proba":
        keys = [labels_key(c) for c in classes]
        for c in cols:
            out[c] = proba[:, keys.index(labels_key(info["column_classes"][c]))]
    elif info["output"] == "proba":
        keys = [labels_key(c) for c in classes]
        pos = labels_key(positive_label(info["classes"] or list(classes)))
        out[cols[0]] = proba[:, keys.index(pos)]
    elif info["output"] == "label":
        out[cols[0]] = pred
    else:
        pred = np.asarray(pred, dtype=float).reshape(len(test), -1)
        for k, c in enumerate(cols):
            out[c] = pred[:, k]
    if info["id_column"] is not None:
        out = out.set_index(info["id_column"]).loc[sample[info["id_column"]].values].reset_index()
    return out


def naive_predictor(info, y):
    """(name, labels or values, class probabilities) of the naive baseline."""
    m = info["metric"]
    if m in CLASSIFICATION:
        classes = sorted(y.unique(), key=labels_key)
        if m in ("log_loss", "roc_auc"):
            priors = y.value_counts(normalize=True)
            return "train class priors", None, classes, np.array([priors[c] for c in classes])
        best, best_s = None, None
        for c in classes:  # the constant label that scores best on train
            fake = {**info, "output": "label", "submission_columns": ["_p"],
                    "id_column": None, "label_columns": ["_p"]}
            s = score_here(fake, pd.DataFrame({"_p": y.values}),
                           pd.DataFrame({"_p": [c] * len(y)}))
            if best is None or (s > best_s if HIGHER[m] else s < best_s):
                best, best_s = c, s
        return f"constant label {best!r}", best, classes, None
    Y = y.to_numpy(dtype=float).reshape(len(y), -1)
    if m == "mae":
        return "train median", np.median(Y, 0), None, None
    if m == "rmsle":
        return "expm1(train mean of log1p)", np.expm1(np.mean(np.log1p(np.clip(Y, 0, None)), 0)), None, None
    return "train mean", Y.mean(0), None, None


def sig(x):
    """x to 12 significant digits: the same file whatever the last bits of a
    library's summation order."""
    return float(f"{x:.12g}")


def search_fit(info, pipe, grid, X, y, cv, classif, what):
    """(name, refitted best pipeline) of a grid search scored by the
    task's metric, on one thread."""
    pos = positive_label(sorted(y.unique(), key=labels_key)) if classif else None
    search = GridSearchCV(pipe, grid, scoring=scorer(info, pos), cv=cv, n_jobs=1,
                          error_score="raise")
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore")
        search.fit(X, y)
    best = search.best_estimator_
    model = best.named_steps["model"]
    params = {k: v for k, v in search.best_params_.items() if k != "model"}
    return f"{what}{type(model).__name__} {json.dumps(params, sort_keys=True)}", best


def folds(classif):
    if classif:
        return StratifiedKFold(n_splits=3, shuffle=True, random_state=SEED)
    return KFold(n_splits=3, shuffle=True, random_state=SEED)


def reference_tabular(info, train, test, y, classif):
    X, Xt, pre = features(info, train, test)
    if classif:
        grid = [{"model": [LogisticRegression(max_iter=5000)], "model__C": [0.1, 1.0, 10.0]},
                {"model": [RandomForestClassifier(n_estimators=200, random_state=SEED, n_jobs=1)],
                 "model__min_samples_leaf": [1, 3]}]
    else:
        grid = [{"model": [Ridge()], "model__alpha": [0.1, 1.0, 10.0]},
                {"model": [RandomForestRegressor(n_estimators=200, random_state=SEED, n_jobs=1)],
                 "model__min_samples_leaf": [1, 3]}]
    pipe = Pipeline([("pre", pre), ("model", grid[0]["model"][0])])
    name, best = search_fit(info, pipe, grid, X, y, folds(classif), classif, "")
    return name + ", 3-fold grid search", best, Xt


def reference_text(info, train, test, y, classif):
    """TF-IDF of the free-text columns, then a linear model."""
    drop = set(info["label_columns"]) | {info["id_column"]}
    cols = [c for c in train.columns if c not in drop and c in test.columns
            and is_text(train[c])]
    if not cols:
        return None
    X = train[cols].fillna("").astype(str)
    Xt = test[cols].fillna("").astype(str)
    parts = []
    for c in cols:
        parts.append((c + "_word", TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True,
                                                   strip_accents="unicode"), c))
        parts.append((c + "_char", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5),
                                                   min_df=2, sublinear_tf=True), c))
    model, key = ((LogisticRegression(max_iter=5000), "model__C") if classif
                  else (Ridge(), "model__alpha"))
    pipe = Pipeline([("pre", ColumnTransformer(parts)), ("model", model)])
    name, best = search_fit(info, pipe, {key: [0.25, 1.0, 4.0]}, X, y, folds(classif),
                            classif, "TF-IDF word 1-2 + char_wb 2-5 grams of "
                            + ", ".join(cols) + ", ")
    return name + ", 3-fold grid search", best, Xt


def reference_image(info, pub, train, test, y, classif):
    """An RBF SVM on the grey pixels of the image files named by the ids."""
    from PIL import Image
    idc = info["id_column"]
    if idc is None:
        return None
    files = image_files(pub)
    size = None

    def pixels(ids):
        nonlocal size
        rows = []
        for i in ids:
            path = files.get(str(i))
            if path is None:
                raise TaskError(f"no image file for id {i}")
            with Image.open(path) as im:
                im = im.convert("L")
                if size is None:
                    size = im.size
                elif im.size != size:
                    im = im.resize(size, Image.BILINEAR)
                rows.append(np.asarray(im, dtype=float).ravel() / 255.0)
        return np.stack(rows)

    X, Xt = pixels(train[idc].values), pixels(test[idc].values)
    if classif:
        model = SVC(probability=info["output"] in ("proba", "class_proba"), random_state=SEED)
    else:
        model = SVR()
    pipe = Pipeline([("model", model)])
    name, best = search_fit(info, pipe, {"model__C": [1.0, 10.0, 100.0]}, X, y,
                            folds(classif), classif,
                            f"{size[0]}x{size[1]} grey pixels, ")
    return name + ", 3-fold grid search", best, Xt


def reference_timeseries(info, train, test, y):
    """Gradient boosting on calendar features and lags of at least the
    horizon, for one daily series; None for anything else."""
    from pandas.tseries.holiday import USFederalHolidayCalendar
    drop = set(info["label_columns"]) | {info["id_column"]}
    cols = [c for c in train.columns if c not in drop and c in test.columns]
    dcol = date_column(train, cols)
    if dcol is None:
        return None
    d, dt = pd.to_datetime(train[dcol], errors="coerce"), pd.to_datetime(test[dcol], errors="coerce")
    if d.isna().any() or dt.isna().any() or d.duplicated().any() or dt.duplicated().any():
        return None
    order = np.argsort(d.values, kind="stable")
    series = pd.Series(y.to_numpy(dtype=float)[order], index=d.values[order])
    horizon = (dt.max() - d.max()).days
    if horizon <= 0 or horizon * 2 >= len(train):
        return None
    first = -(-horizon // 7) * 7
    lags = sorted({first, first + 7, first + 14} | {k for k in (364, 728) if k >= horizon})
    lo, hi = min(d.min(), dt.min()), max(d.max(), dt.max())
    hol = USFederalHolidayCalendar().holidays(lo - pd.Timedelta(days=366), hi + pd.Timedelta(days=366))
    num = [c for c in cols if c != dcol and pd.api.types.is_numeric_dtype(train[c])]

    def make(df, days):
        X = df[num].astype(float).reset_index(drop=True)
        days = pd.Series(days.values)
        X["_dow"] = days.dt.dayofweek
        X["_month"] = days.dt.month
        X["_doy"] = days.dt.dayofyear
        X["_year"] = days.dt.year
        X["_trend"] = (days - pd.Timestamp("1970-01-01")).dt.days
        X["_holiday"] = days.isin(hol).astype(int)
        X["_to_holiday"] = [int(np.abs((hol - t).days).min()) for t in days]
        for k in lags:
            X[f"_lag{k}"] = series.reindex(days - pd.Timedelta(days=k)).values
        weeks = np.stack([series.reindex(days - pd.Timedelta(days=first + 7 * w)).values
                          for w in range(5)])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            X[f"_lag{first}_weekday_mean"] = np.nanmean(weeks, 0)
        return X

    X, Xt = make(train, d), make(test, dt)
    fold = np.where(d.values > d.max() - pd.Timedelta(days=horizon), 0, -1)
    pipe = Pipeline([("model", HistGradientBoostingRegressor(max_iter=500, random_state=SEED))])
    grid = {"model__learning_rate": [0.03, 0.1], "model__max_leaf_nodes": [15, 31]}
    name, best = search_fit(info, pipe, grid, X, y, PredefinedSplit(fold), False,
                            f"calendar + lags {', '.join(map(str, lags))} days of {dcol}, ")
    return name + f", chosen on the last {horizon} days of train", best, Xt


def task_thresholds(task_dir, binary):
    info = inspect_with(binary, task_dir) if binary else infer(task_dir)
    metric = info["metric"]
    pub = os.path.join(task_dir, "public")
    train = pd.read_csv(os.path.join(pub, info["train_file"]))
    test = pd.read_csv(os.path.join(pub, info["test_file"]))
    sample = pd.read_csv(os.path.join(pub, info["sample_file"]))
    labels = info["label_columns"]
    classif = metric in CLASSIFICATION
    y = train[labels[0]] if classif or len(labels) == 1 else train[labels]
    n = len(test)

    # naive
    name, const, classes, priors = naive_predictor(info, y)
    if priors is not None:
        sub = submission(info, test, sample, None, np.tile(priors, (n, 1)), classes)
    elif classif:
        sub = submission(info, test, sample, [const] * n)
    else:
        sub = submission(info, test, sample, np.tile(const, (n, 1)))
    naive = grade(binary, task_dir, info, sub)

    # reference
    mod = set(info.get("modality") or ["tabular"])
    ref = None
    if "image" in mod and "tabular" not in mod:
        ref = reference_image(info, pub, train, test, y, classif)
    elif "timeseries" in mod and not classif and len(labels) == 1:
        ref = reference_timeseries(info, train, test, y)
    elif "text" in mod:
        ref = reference_text(info, train, test, y, classif)
    if ref is None:
        ref = reference_tabular(info, train, test, y, classif)
    ref_name, best, Xt = ref
    if classif and info["output"] in ("proba", "class_proba"):
        sub = submission(info, test, sample, None, best.predict_proba(Xt), list(best.classes_))
    else:
        sub = submission(info, test, sample, best.predict(Xt))
    reference = grade(binary, task_dir, info, sub)

    span = reference - naive
    return {
        "metric": metric,
        "higher_is_better": info["higher_is_better"],
        "naive": sig(naive),
        "reference": sig(reference),
        "bronze": sig(naive + BRONZE * span),
        "silver": sig(naive + SILVER * span),
        "gold": sig(reference),
        "naive_model": name,
        "reference_model": ref_name,
        "rule": RULE,
    }


def main(argv):
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        sys.stderr.write("usage: make-thresholds.py TASKS_DIR  (env AUTOMLGEN_BIN: an automlgen binary)\n")
        return 2
    root = argv[1]
    binary = os.environ.get("AUTOMLGEN_BIN") or None
    if not os.path.isdir(root):
        sys.stderr.write(f"make-thresholds.py: {root} is not a folder\n")
        return 2
    status = 0
    for name in sorted(os.listdir(root)):
        task_dir = os.path.join(root, name)
        if name.startswith(".") or not os.path.isdir(os.path.join(task_dir, "public")):
            continue
        if not os.path.isfile(os.path.join(task_dir, "private", "answers.csv")):
            sys.stderr.write(f"{name}: skipped: no private/answers.csv\n")
            continue
        try:
            th = task_thresholds(task_dir, binary)
        except (TaskError, OSError, ValueError, KeyError) as e:
            sys.stderr.write(f"{name}: {e}\n")
            status = 1
            continue
        if th["naive"] == th["reference"]:
            sys.stderr.write(f"{name}: naive and reference both score {th['naive']}: no file\n")
            status = 1
            continue
        with open(os.path.join(task_dir, "thresholds.json"), "w") as f:
            json.dump(th, f, indent=2, sort_keys=True)
            f.write("\n")
        print(f"{name}: {th['metric']} naive {th['naive']:.6g}, reference "
              f"{th['reference']:.6g} ({th['reference_model']})")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
