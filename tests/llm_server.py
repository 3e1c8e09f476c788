#!/usr/bin/python3
"""llm_server.py — a fake LLM HTTP server for testing AutoMLGen's providers.

There is no network in the test machines, so the HTTP providers (OpenAI
chat-completions and Anthropic Messages) are tested against this server.  It
speaks both wire formats, checks requests the way the real APIs do (including
the reasoning-model parameter quirks), and injects faults from a schedule:
rate limits with Retry-After, server errors, HTML error pages, truncated
bodies, empty answers, answers without code, slow answers and dropped
connections.  A normal answer is a one-paragraph plan and one ```python
block holding a generic solution script that works on any tabular task laid
out as the agent's workspace contract says (./input/, ./submission/,
"Final Validation Score: <number>").

Usage (stdlib only; the generated scripts need numpy, pandas, scikit-learn):

    /usr/bin/python3 tests/llm_server.py --port-file PATH [--port N]
        [--latency S] [--faults F1,F2,...] [--cycle] [--retry-after S]
        [--slow-s S] [--require-key KEY] [--verbose]

It binds 127.0.0.1 only, writes its port to PATH atomically once it listens,
and exits on SIGTERM/SIGINT or when its parent process dies.

Completion endpoints: any POST whose path ends with /chat/completions
(OpenAI) or /messages (Anthropic).  Control endpoints (any path prefix):
    GET  /_stats    {"requests", "by_fault": {name: n}, "by_path": {path: n},
                     "in_flight", "max_in_flight", "faults" (what is left of
                     the schedule), "cycle", "log": the last 200 completion
                     requests as {"path", "headers" (lower-case names),
                     "body" (parsed JSON or the raw text), "fault", "status"
                     (0: no answer sent, None: not answered yet)}}
    POST /_faults   {"faults": [...], "cycle": bool} replaces the schedule
    POST /_reset    clears the counts and the log (not the schedule)

Faults: ok, 429, 500, 503, 529, 401 (error bodies in the endpoint's format;
429/503/529 carry Retry-After), slow (sleeps --slow-s, then answers), html
(502 nginx page), html200 (an HTML page with status 200), truncated (half
of a normal JSON answer, Content-Length matching), empty (no choices / no
content blocks), nocode (prose only), reset (the connection is dropped).

A request that fails the checks (400/401) is answered at once, counted in
by_fault as "invalid" (400) or "unauthorized" (401), and takes no entry of
the fault schedule; every valid completion request takes the next entry
("ok" once the schedule is exhausted, unless it cycles).  A request is
counted, and logged with its fault, as soon as its fault is known; it leaves
the in-flight gauge just before its answer is written.
"""
import argparse
import hashlib
import json
import os
import re
import signal
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAULTS = ("ok", "429", "500", "503", "529", "401", "slow", "html", "html200",
          "truncated", "empty", "nocode", "reset")
REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5")
LOG_KEEP = 200

# ---------------------------------------------------------------------------
# The generic solution script.  The server prepends a header of constants
# (facts parsed from the prompt, and hyper-parameters chosen from a hash of
# the request) to this body.
# ---------------------------------------------------------------------------
SCRIPT_BODY = r'''
import os
import re
import warnings

import numpy as np
import pandas as pd
from sklearn import metrics as skm
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

warnings.filterwarnings("ignore")
INPUT = "input"
N_JOBS = max(1, int(os.environ.get("AML_N_JOBS", "1") or "1"))

METRIC_ALIASES = {
    "accuracy": "accuracy", "acc": "accuracy",
    "f1": "f1", "f1_score": "f1", "f1_binary": "f1",
    "f1_macro": "f1_macro", "macro_f1": "f1_macro", "f1macro": "f1_macro",
    "auc": "roc_auc", "roc_auc": "roc_auc", "rocauc": "roc_auc", "roc_auc_score": "roc_auc",
    "log_loss": "log_loss", "logloss": "log_loss", "multi_logloss": "log_loss",
    "cross_entropy": "log_loss", "mlogloss": "log_loss",
    "rmse": "rmse", "mse": "mse", "mae": "mae", "r2": "r2", "rmsle": "rmsle",
    "mcrmse": "mcrmse", "qwk": "qwk", "quadratic_weighted_kappa": "qwk", "kappa": "qwk",
}
CLASSIFICATION_METRICS = ("accuracy", "f1", "f1_macro", "roc_auc", "log_loss", "qwk")
REGRESSION_METRICS = ("rmse", "mse", "mae", "r2", "rmsle", "mcrmse")
# In priority order: the first pattern found in the description's
# evaluation section names the metric.
DESCRIPTION_METRICS = [
    ("mcrmse", r"mcrmse|mean column-?wise root mean squared"),
    ("rmsle", r"rmsle|root mean squared log"),
    ("log_loss", r"log ?loss|logarithmic loss|cross-entropy"),
    ("roc_auc", r"\bauc\b|\broc\b"),
    ("qwk", r"quadratic weighted kappa|\bqwk\b"),
    ("f1_macro", r"macro[- ]?f1|f1[- ]macro|macro[- ]averaged f1"),
    ("f1", r"\bf1\b|f-score|f-measure"),
    ("rmse", r"\brmse\b|root mean squared error"),
    ("mae", r"\bmae\b|mean absolute error"),
    ("mse", r"\bmse\b|mean squared error"),
    ("r2", r"\br2\b|r\^2|coefficient of determination"),
    ("accuracy", r"accuracy"),
]
POSITIVE_NAMES = ("true", "yes", "y", "pos", "positive")


def say(msg):
    print(msg, flush=True)


def norm_metric(m):
    k = re.sub(r"[^a-z0-9]+", "_", str(m or "").lower()).strip("_")
    return METRIC_ALIASES.get(k) or METRIC_ALIASES.get(k.replace("_", ""), "")


def csv_files():
    return sorted(f for f in os.listdir(INPUT) if f.lower().endswith(".csv"))


def pick_file(hint, pattern, exclude=()):
    if hint and os.path.isfile(os.path.join(INPUT, hint)):
        return hint
    for f in csv_files():
        if f not in exclude and re.search(pattern, f.lower()):
            return f
    raise SystemExit("no file matching %r in ./input" % pattern)


def metric_from_description():
    for name in sorted(os.listdir(INPUT)):
        if not name.lower().startswith("description"):
            continue
        with open(os.path.join(INPUT, name), errors="replace") as f:
            text = f.read().lower()
        m = re.search(r"#+\s*evaluation(.*?)(\n#+\s|\Z)", text, re.S)
        section = m.group(1) if m else text
        for metric, pattern in DESCRIPTION_METRICS:
            if re.search(pattern, section):
                return metric
    return ""


def is_numeric(s):
    return pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)


def is_classification(y):
    if not is_numeric(y):
        return True
    v = pd.to_numeric(y, errors="coerce").dropna()
    return bool(len(v)) and bool(np.all(np.mod(v, 1) == 0)) and v.nunique() <= 20


def positive_class(classes):
    for c in classes:
        if str(c).strip().lower() in POSITIVE_NAMES:
            return c
        try:
            if float(c) == 1.0:
                return c
        except (TypeError, ValueError):
            pass
    return classes[-1]


def class_of_column(col, classes):
    """The class a probability column stands for: 'class_2' -> 2, 'setosa'
    -> 'setosa'; the longest class name wins."""
    low = col.lower()
    best = None
    for c in classes:
        s = str(c).lower()
        if low == s or re.search(r"(^|[_\-\s.:=])" + re.escape(s) + "$", low):
            if best is None or len(s) > len(str(best).lower()):
                best = c
    return best


def proba_mapping(cols, y):
    classes = sorted(pd.unique(y.dropna()), key=lambda v: (str(type(v)), v))
    mapping = [class_of_column(c, classes) for c in cols]
    if all(m is not None for m in mapping) and len(set(map(str, mapping))) == len(mapping):
        return mapping
    if len(cols) == len(classes):
        return list(classes)
    return None


def looks_like_date(s):
    v = s.dropna().astype(str).head(200)
    if len(v) == 0:
        return False
    pat = r"^\s*(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})([ T]\d{1,2}:\d{2}.*)?\s*$"
    return v.str.match(pat).mean() >= 0.9


def encode(train_x, test_x):
    """Numeric columns: median-imputed.  Dates: year, month, day, weekday and
    day number.  Other columns: ordinal codes learnt on train, -1 for missing
    or unseen values."""
    tr, te = {}, {}
    for c in train_x.columns:
        a, b = train_x[c], test_x[c]
        if not is_numeric(a):
            na = pd.to_numeric(a, errors="coerce")
            if na.notna().sum() >= 0.95 * a.notna().sum() and a.notna().any():
                a, b = na, pd.to_numeric(b, errors="coerce")
        if is_numeric(a):
            a, b = a.astype(float), b.astype(float)
            med = a.median()
            med = 0.0 if pd.isna(med) else med
            tr[c], te[c] = a.fillna(med), b.fillna(med)
        elif looks_like_date(a):
            da = pd.to_datetime(a, errors="coerce")
            db = pd.to_datetime(b, errors="coerce")
            for part in ("year", "month", "day", "dayofweek"):
                pa, pb = getattr(da.dt, part).astype(float), getattr(db.dt, part).astype(float)
                med = pa.median()
                tr[c + "_" + part], te[c + "_" + part] = pa.fillna(med), pb.fillna(med)
            na = (da - pd.Timestamp("1970-01-01")).dt.days.astype(float)
            nb = (db - pd.Timestamp("1970-01-01")).dt.days.astype(float)
            med = na.median()
            tr[c + "_days"], te[c + "_days"] = na.fillna(med), nb.fillna(med)
        else:
            sa, sb = a.astype(str).where(a.notna()), b.astype(str).where(b.notna())
            counts = sa.value_counts()
            codes = {v: i for i, v in enumerate(counts.index)}
            tr[c] = sa.map(codes).fillna(-1).astype(float)
            te[c] = sb.map(codes).fillna(-1).astype(float)
    return pd.DataFrame(tr, index=train_x.index), pd.DataFrame(te, index=test_x.index)


def classifier(n_rows):
    return HistGradientBoostingClassifier(
        learning_rate=LEARNING_RATE, max_iter=MAX_ITER, max_leaf_nodes=MAX_LEAF_NODES,
        min_samples_leaf=MIN_SAMPLES_LEAF, l2_regularization=L2_REGULARIZATION,
        early_stopping=n_rows >= 1000, validation_fraction=0.1, n_iter_no_change=10,
        random_state=SEED)


def regressor(n_rows):
    return HistGradientBoostingRegressor(
        learning_rate=LEARNING_RATE, max_iter=MAX_ITER, max_leaf_nodes=MAX_LEAF_NODES,
        min_samples_leaf=MIN_SAMPLES_LEAF, l2_regularization=L2_REGULARIZATION,
        early_stopping=n_rows >= 1000, validation_fraction=0.1, n_iter_no_change=10,
        random_state=SEED)


def folds(n, y_strata, outputs):
    """K-fold on small data (stratified for classes; 3 folds when there are
    many rows times classes or targets to fit), one hold-out split on large
    data or under a tight time limit."""
    idx = np.arange(n)
    kmax = 5 if n * outputs <= 6000 else 3
    holdout = n > 50000 or (TASK.get("time_limit") or 1e9) < 60
    if y_strata is not None:
        counts = pd.Series(y_strata).value_counts()
        k = int(min(kmax, counts.min())) if len(counts) > 1 else 0
        if holdout and counts.min() >= 2:
            a, b = train_test_split(idx, test_size=0.2, random_state=SEED, stratify=y_strata)
            return [(a, b)]
        if k >= 2:
            return list(StratifiedKFold(k, shuffle=True, random_state=SEED).split(idx, y_strata))
    if holdout:
        a, b = train_test_split(idx, test_size=0.2, random_state=SEED)
        return [(a, b)]
    return list(KFold(min(kmax, n), shuffle=True, random_state=SEED).split(idx))


def fit_predict_classes(X, y, Xt, classes):
    """Class probabilities (columns in `classes` order) of a model fit on X."""
    if y.nunique() == 1:
        p = np.zeros((len(Xt), len(classes)))
        p[:, list(classes).index(y.iloc[0])] = 1.0
        return p
    model = classifier(len(X)).fit(X, y)
    p = np.zeros((len(Xt), len(classes)))
    got = model.predict_proba(Xt)
    for j, c in enumerate(model.classes_):
        p[:, list(classes).index(c)] = got[:, j]
    return p


def score_classes(metric, y, proba, classes, pos):
    labels = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
    yv = np.asarray(y, dtype=object)
    binary = len(classes) == 2
    if metric == "f1":
        if binary:
            return skm.f1_score(yv == pos, labels == pos)
        return skm.f1_score(yv.astype(str), labels.astype(str), average="macro")
    if metric == "f1_macro":
        return skm.f1_score(yv.astype(str), labels.astype(str), average="macro")
    if metric == "roc_auc":
        if binary:
            return skm.roc_auc_score(yv == pos, proba[:, list(classes).index(pos)])
        return skm.roc_auc_score(yv.astype(str), proba, multi_class="ovr",
                                 labels=[str(c) for c in classes])
    if metric == "log_loss":
        p = np.clip(proba, 1e-15, 1 - 1e-15)
        p = p / p.sum(axis=1, keepdims=True)
        return skm.log_loss([str(v) for v in yv], p, labels=[str(c) for c in classes])
    if metric == "qwk":
        return skm.cohen_kappa_score(yv.astype(str), labels.astype(str), weights="quadratic")
    if metric in REGRESSION_METRICS and binary:  # e.g. a Brier-like score
        return score_values(metric, (yv == pos).astype(float)[:, None],
                            proba[:, [list(classes).index(pos)]])
    return skm.accuracy_score(yv.astype(str), labels.astype(str))


def score_values(metric, Y, P):
    Y, P = np.asarray(Y, dtype=float), np.asarray(P, dtype=float)
    if metric == "mse":
        return float(np.mean((Y - P) ** 2))
    if metric == "mae":
        return float(np.mean(np.abs(Y - P)))
    if metric == "r2":
        return skm.r2_score(Y, P)
    if metric == "rmsle":
        return float(np.sqrt(np.mean((np.log1p(np.clip(P, 0, None))
                                      - np.log1p(np.clip(Y, 0, None))) ** 2)))
    if metric == "mcrmse":
        return float(np.mean(np.sqrt(np.mean((Y - P) ** 2, axis=0))))
    return float(np.sqrt(np.mean((Y - P) ** 2)))


def main():
    sample_file = pick_file(TASK.get("sample"), r"sample|submission")
    train_file = pick_file(TASK.get("train"), r"train", exclude=(sample_file,))
    test_file = pick_file(TASK.get("test"), r"test", exclude=(sample_file, train_file))
    sample = pd.read_csv(os.path.join(INPUT, sample_file), dtype=str, keep_default_na=False)
    train = pd.read_csv(os.path.join(INPUT, train_file), low_memory=False)
    test = pd.read_csv(os.path.join(INPUT, test_file), low_memory=False)

    id_col = TASK.get("id") if TASK.get("id") in sample.columns else sample.columns[0]
    sub_cols = [c for c in sample.columns if c != id_col]
    if not sub_cols:
        raise SystemExit("the sample submission has no column to predict")

    # What to predict: the submission columns when train has them (and test
    # does not), else one label column of train whose classes name the
    # submission's probability columns (the hinted target first).
    mapping = None
    if all(c in train.columns and c not in test.columns for c in sub_cols):
        targets = list(sub_cols)
    else:
        hint = [t for t in (TASK.get("targets") or []) if t in train.columns]
        cands = hint + [c for c in train.columns
                        if c not in test.columns and c != id_col and c not in hint]
        for c in cands:
            if train[c].nunique() <= 1000:
                mapping = proba_mapping(sub_cols, train[c])
                if mapping is not None:
                    targets = [c]
                    break
        if mapping is None:
            raise SystemExit("cannot tell which training column(s) give %s" % sub_cols)

    train = train.dropna(subset=targets).reset_index(drop=True)
    features = [c for c in test.columns
                if c in train.columns and c != id_col and c not in targets]
    if not features:
        raise SystemExit("train and test share no feature column")

    # Test rows in the sample's order.
    sample_ids = sample[id_col].astype(str).str.strip()
    if id_col in test.columns:
        tid = pd.read_csv(os.path.join(INPUT, test_file), usecols=[id_col], dtype=str,
                          keep_default_na=False)[id_col].str.strip()
        if tid.is_unique and set(sample_ids) <= set(tid):
            pos_of = pd.Series(np.arange(len(tid)), index=tid.values)
            test = test.iloc[pos_of.loc[sample_ids.values].values].reset_index(drop=True)
    if len(test) != len(sample):
        raise SystemExit("test has %d rows, the sample %d" % (len(test), len(sample)))

    X, Xt = encode(train[features], test[features])
    metric = norm_metric(TASK.get("metric")) or metric_from_description()
    output = TASK.get("output") or ""
    say("train %s, test %s, %d features, targets %s, metric %s"
        % (train.shape, test.shape, X.shape[1], targets, metric or "(unknown)"))

    sub = pd.DataFrame({id_col: sample[id_col]})
    if mapping is not None or (len(targets) == 1 and is_classification(train[targets[0]])):
        y = train[targets[0]]
        if not is_numeric(y):
            y = y.astype(str)
        classes = sorted(pd.unique(y), key=lambda v: (str(type(v)), v))
        pos = positive_class(classes)
        if mapping is not None:
            kind = "class_proba"
        elif output == "proba" or (output != "label" and len(classes) == 2 and (
                metric in ("roc_auc", "log_loss") or not set(sample[sub_cols[0]]) <= set(map(str, classes)))):
            kind = "proba"
        else:
            kind = "label"
        if metric not in CLASSIFICATION_METRICS + REGRESSION_METRICS:
            metric = "log_loss" if kind == "class_proba" else "accuracy"
        oof = np.zeros((len(X), len(classes)))
        splits = folds(len(X), y.astype(str).values, len(classes))
        for tr_i, va_i in splits:
            oof[va_i] = fit_predict_classes(X.iloc[tr_i], y.iloc[tr_i], X.iloc[va_i], classes)
        seen = np.concatenate([va for _, va in splits])
        score = score_classes(metric, y.iloc[seen], oof[seen], classes, pos)
        proba = fit_predict_classes(X, y, Xt, classes)
        if kind == "class_proba":
            cols = np.column_stack([proba[:, classes.index(m)] if m in classes
                                    else np.zeros(len(Xt)) for m in mapping])
            cols = np.clip(cols, 1e-6, 1.0)
            cols = cols / cols.sum(axis=1, keepdims=True)
            for j, c in enumerate(sub_cols):
                sub[c] = cols[:, j]
        elif kind == "proba":
            sub[sub_cols[0]] = proba[:, classes.index(pos)]
        else:
            sub[sub_cols[0]] = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
    else:
        Y = train[targets].apply(pd.to_numeric, errors="coerce")
        Y = Y.fillna(Y.median())
        log_target = metric == "rmsle" and bool((Y.values >= 0).all())
        if metric not in REGRESSION_METRICS:
            metric = "rmse"
        kind = "values"
        Yfit = np.log1p(Y) if log_target else Y

        def fit_predict(Xa, Ya, Xb):
            out = np.column_stack([regressor(len(Xa)).fit(Xa, Ya.iloc[:, j]).predict(Xb)
                                   for j in range(Ya.shape[1])])
            return np.expm1(out) if log_target else out

        oof = np.zeros(Y.shape)
        splits = folds(len(X), None, Y.shape[1])
        for tr_i, va_i in splits:
            oof[va_i] = fit_predict(X.iloc[tr_i], Yfit.iloc[tr_i], X.iloc[va_i])
        seen = np.concatenate([va for _, va in splits])
        score = score_values(metric, Y.values[seen], oof[seen])
        pred = fit_predict(X, Yfit, Xt)
        if metric == "rmsle":
            pred = np.clip(pred, 0, None)
        for j, t in enumerate(targets):
            col = t if t in sub_cols else sub_cols[j]
            sub[col] = pred[:, j]

    sub = sub[list(sample.columns)]
    os.makedirs("submission", exist_ok=True)
    sub.to_csv(os.path.join("submission", "submission.csv"), index=False)
    say("wrote submission/submission.csv: %d rows, columns %s (%s)"
        % (len(sub), list(sub.columns), kind))
    say("Final Validation Score: %.6f" % score)


if __name__ == "__main__":
    main()
'''

# ---------------------------------------------------------------------------
# Reading the prompt
# ---------------------------------------------------------------------------
OUTPUT_KINDS = {
    "class labels": "label",
    "probability of the positive class": "proba",
    "one probability column per class": "class_proba",
    "numeric values": "values",
}


def content_text(content):
    """Text of a message's content: a string or a list of text parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        out = []
        for part in content:
            if isinstance(part, str):
                out.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                out.append(part["text"])
        return "\n".join(out)
    return ""


def last_match(pattern, text):
    found = list(re.finditer(pattern, text, re.M))
    return found[-1] if found else None


def split_list(text):
    """'a, b, c' -> ['a','b','c']; None when the list was cut ('... (N in all)')."""
    if "in all)" in text or not text.strip():
        return None
    return [s.strip() for s in text.split(",") if s.strip()]


def prompt_facts(text):
    """The task facts opkit_task_text() and opkit_contract_text() write."""
    facts = {}
    m = last_match(r"^Metric: ([^,\n]+),", text)
    if m:
        facts["metric"] = m.group(1).strip()
    m = last_match(r"^Id column: (.*)\.\s*$", text)
    if m and m.group(1).strip() != "(none)":
        facts["id"] = m.group(1).strip()
    m = last_match(r"^Target column\(s\) in the training file: (.*)\.\s*$", text)
    if m:
        targets = split_list(m.group(1))
        if targets:
            facts["targets"] = targets
    m = last_match(r"^Submission columns to predict: .*\(([^()]*)\)\.\s*$", text)
    if m and m.group(1) in OUTPUT_KINDS:
        facts["output"] = OUTPUT_KINDS[m.group(1)]
    m = last_match(r"^Files in \./input/: (\S+) \(\d+ rows\), (\S+) \(\d+ rows\), (\S+)\.\s*$",
                   text)
    if m:
        facts["train"], facts["test"], facts["sample"] = m.group(1), m.group(2), m.group(3)
    m = last_match(r"may take at most (\d+(?:\.\d+)?) seconds", text)
    if m:
        facts["time_limit"] = float(m.group(1))
    return facts


def solution_text(messages, system_text):
    """The answer: a plan paragraph and one ```python block; the facts come
    from the last user message (then from everything), the hyper-parameters
    from a hash of that message, so two different prompts get two
    different scripts."""
    user = ""
    for msg in messages:
        if isinstance(msg, dict) and msg.get("role") == "user":
            user = content_text(msg.get("content"))
    everything = system_text + "\n" + "\n".join(
        content_text(m.get("content")) for m in messages if isinstance(m, dict))
    facts = prompt_facts(everything)
    facts.update(prompt_facts(user))
    h = int.from_bytes(hashlib.sha256(user.encode("utf-8", "replace")).digest()[:8], "big")
    lr = (0.05, 0.06, 0.08, 0.1, 0.12)[h % 5]
    max_iter = (100, 120, 150, 180, 200)[(h // 5) % 5]
    leaves = (15, 23, 31)[(h // 25) % 3]
    min_leaf = (5, 10, 20)[(h // 75) % 3]
    l2 = (0.0, 0.1, 0.5, 1.0)[(h // 225) % 4]
    seed = (h // 900) % 100000
    metric = facts.get("metric") or "the task's metric (read from the description)"
    plan = ("I will fit gradient-boosted trees (scikit-learn's HistGradientBoosting, "
            "learning rate %s, up to %d iterations, %d leaves of at least %d rows, L2 %s) on the tabular features: "
            "numeric columns median-imputed, dates split into parts and other columns "
            "ordinal-encoded; the targets and the submission layout come from "
            "./input/sample_submission.csv and the training file. Trees need no scaling and "
            "handle mixed feature types well on data of this size. K-fold cross-validation "
            "(stratified for classes) gives the score in %s; then the model is refit on all "
            "training rows and predicts the test rows in the sample's order."
            % (lr, max_iter, leaves, min_leaf, l2, metric))
    header = ("# Solution by the fake LLM of tests/llm_server.py (variant %016x).\n"
              "TASK = %r\n"
              "LEARNING_RATE = %r\n"
              "MAX_ITER = %r\n"
              "MAX_LEAF_NODES = %r\n"
              "MIN_SAMPLES_LEAF = %r\n"
              "L2_REGULARIZATION = %r\n"
              "SEED = %r\n" % (h, facts, lr, max_iter, leaves, min_leaf, l2, seed))
    return plan + "\n\n```python\n" + header + SCRIPT_BODY.lstrip("\n") + "```\n"


NOCODE_TEXT = ("This task looks like a standard tabular problem. I would begin with a "
               "gradient-boosted tree model on the raw features, validate it with K-fold "
               "cross-validation in the task's metric, and then tune the learning rate and "
               "the number of trees. Feature engineering on the categorical columns could "
               "help further. Let me know if you want me to write the script.")

HTML_502 = ("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
            "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.22.1</center>\r\n"
            "</body>\r\n</html>\r\n")
HTML_200 = ("<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">"
            "<title>Sign in</title></head>\n<body>\n<h1>Sign in to continue</h1>\n"
            "<p>Your session has expired. Please sign in again.</p>\n"
            "<form method=\"post\" action=\"/login\"><input name=\"user\"></form>\n"
            "</body>\n</html>\n")


# ---------------------------------------------------------------------------
# Wire formats
# ---------------------------------------------------------------------------
def openai_error(message, etype, code=None, param=None):
    return {"error": {"message": message, "type": etype, "param": param, "code": code}}


def anthropic_error(message, etype):
    return {"type": "error", "error": {"type": etype, "message": message}}


FAULT_ERRORS = {
    # fault: (status, openai (message, type, code), anthropic (message, type))
    "429": (429, ("Rate limit reached", "rate_limit_error", "rate_limit_exceeded"),
            ("Number of requests has exceeded your rate limit.", "rate_limit_error")),
    "500": (500, ("The server had an error while processing your request. Sorry about that!",
                  "server_error", None),
            ("Internal server error", "api_error")),
    "503": (503, ("The engine is currently overloaded, please try again later",
                  "server_error", "service_unavailable"),
            ("Service unavailable", "api_error")),
    "529": (529, ("The server is overloaded", "overloaded_error", "overloaded"),
            ("Overloaded", "overloaded_error")),
    "401": (401, ("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"),
            ("invalid x-api-key", "authentication_error")),
}
RETRY_AFTER_FAULTS = ("429", "503", "529")


class RequestError(Exception):
    """A request the real API would refuse: status and error body."""

    def __init__(self, status, body):
        super().__init__(status)
        self.status = status
        self.body = body


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def check_openai(headers, body, require_key):
    """The checks the OpenAI chat-completions endpoint makes; returns the
    message list and the system text (OpenAI keeps it in the messages)."""
    def bad(msg, param=None, code=None):
        raise RequestError(400, openai_error(msg, "invalid_request_error", code, param))

    if require_key is not None:
        auth = headers.get("authorization", "")
        if auth != "Bearer " + require_key:
            raise RequestError(401, openai_error(
                "Incorrect API key provided." if auth else
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                "invalid_request_error", "invalid_api_key"))
    if not isinstance(body, dict):
        bad("We could not parse the JSON body of your request.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        bad("you must provide a model parameter", "model")
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        bad("[] is too short - 'messages'" if isinstance(msgs, list)
            else "Missing required parameter: 'messages'.", "messages")
    for i, m in enumerate(msgs):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str):
            bad("Missing required parameter: 'messages[%d].role'." % i, "messages[%d].role" % i)
        if m["role"] not in ("system", "developer", "user", "assistant", "tool"):
            bad("Invalid value: '%s'. Supported values are: 'system', 'assistant', 'user', "
                "'tool', and 'developer'." % m["role"], "messages[%d].role" % i)
        if not isinstance(m.get("content"), (str, list)):
            bad("Missing required parameter: 'messages[%d].content'." % i,
                "messages[%d].content" % i)
    if body.get("stream"):
        bad("this fake server does not stream", "stream")
    for key in ("max_tokens", "max_completion_tokens"):
        if key in body and body[key] is not None and (not is_int(body[key]) or body[key] < 1):
            bad("Invalid '%s': expected a positive integer." % key, key)
    if "temperature" in body and body["temperature"] is not None:
        t = body["temperature"]
        if not is_number(t) or not 0 <= t <= 2:
            bad("Invalid 'temperature': expected a number between 0 and 2.", "temperature")
    if model.startswith(REASONING_PREFIXES):
        t = body.get("temperature")
        if t is not None and t != 1:
            bad("Unsupported value: 'temperature' does not support %s with this model. "
                "Only the default (1) value is supported." % json.dumps(t),
                "temperature", "unsupported_value")
        if "max_tokens" in body:
            bad("Unsupported parameter: 'max_tokens' is not supported with this model. "
                "Use 'max_completion_tokens' instead.", "max_tokens", "unsupported_parameter")
    return msgs, ""


def check_anthropic(headers, body, require_key):
    """The checks the Anthropic Messages endpoint makes; returns the message
    list and the top-level system text."""
    def bad(msg):
        raise RequestError(400, anthropic_error(msg, "invalid_request_error"))

    key = headers.get("x-api-key", "")
    if not key or (require_key is not None and key != require_key):
        raise RequestError(401, anthropic_error("invalid x-api-key", "authentication_error"))
    if not headers.get("anthropic-version"):
        bad("anthropic-version: header is required")
    if not isinstance(body, dict):
        bad("There was an issue with your request body: it is not valid JSON.")
    if not isinstance(body.get("model"), str) or not body["model"]:
        bad("model: Field required")
    if "max_tokens" not in body:
        bad("max_tokens: Field required")
    if not is_int(body["max_tokens"]) or body["max_tokens"] < 1:
        bad("max_tokens: Input should be a valid integer greater than or equal to 1")
    msgs = body.get("messages")
    if not isinstance(msgs, list):
        bad("messages: Field required")
    if not msgs:
        bad("messages: at least one message is required")
    for i, m in enumerate(msgs):
        if not isinstance(m, dict):
            bad("messages.%d: Input should be a valid dictionary" % i)
        if m.get("role") == "system":
            bad("messages: Unexpected role \"system\". The Messages API accepts a top-level "
                "`system` parameter, not \"system\" as an input message role.")
        if m.get("role") not in ("user", "assistant"):
            bad("messages.%d.role: Input should be 'user' or 'assistant'" % i)
        if not isinstance(m.get("content"), (str, list)):
            bad("messages.%d.content: Field required" % i)
    system = body.get("system", "")
    if not isinstance(system, (str, list)):
        bad("system: Input should be a valid string")
    if "temperature" in body:
        t = body["temperature"]
        if not is_number(t) or not 0 <= t <= 1:
            bad("temperature: Input should be less than or equal to 1")
    if body.get("stream"):
        bad("stream: this fake server does not stream")
    return msgs, content_text(system)


# ---------------------------------------------------------------------------
# Server state
# ---------------------------------------------------------------------------
class State:
    def __init__(self, opts):
        self.lock = threading.Lock()
        self.opts = opts
        self.schedule = list(opts.faults)
        self.cycle = opts.cycle
        self.next = 0
        self.counter = 0
        self.clear()

    def clear(self):
        self.requests = 0
        self.by_fault = {}
        self.by_path = {}
        self.in_flight = 0
        self.max_in_flight = 0
        self.log = []

    def reset(self):
        with self.lock:
            in_flight = self.in_flight
            self.clear()
            self.in_flight = in_flight
            self.max_in_flight = in_flight

    def set_faults(self, faults, cycle):
        with self.lock:
            self.schedule = list(faults)
            self.cycle = cycle
            self.next = 0

    def begin(self, path):
        with self.lock:
            self.requests += 1
            self.by_path[path] = self.by_path.get(path, 0) + 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.counter += 1
            return self.counter

    def end(self):
        with self.lock:
            self.in_flight -= 1

    def take_fault(self):
        with self.lock:
            if self.next >= len(self.schedule):
                if not self.cycle or not self.schedule:
                    return "ok"
                self.next = 0
            fault = self.schedule[self.next]
            self.next += 1
            return fault

    def record(self, path, headers, body, fault):
        """Count and log a request as soon as its fault is known (a test may
        look while a slow answer is still sleeping); returns the log entry,
        whose status is filled in when the answer leaves."""
        entry = {"path": path, "headers": headers, "body": body, "fault": fault,
                 "status": None}
        with self.lock:
            self.by_fault[fault] = self.by_fault.get(fault, 0) + 1
            self.log.append(entry)
            del self.log[:-LOG_KEEP]
        return entry

    def stats(self):
        with self.lock:
            return {"requests": self.requests, "by_fault": dict(self.by_fault),
                    "by_path": dict(self.by_path), "in_flight": self.in_flight,
                    "max_in_flight": self.max_in_flight, "log": list(self.log),
                    "faults": list(self.schedule[self.next:]), "cycle": self.cycle}


def parse_faults(text):
    faults = [f.strip() for f in text.split(",") if f.strip()] if text else []
    bad = [f for f in faults if f not in FAULTS]
    if bad:
        raise ValueError("unknown fault(s) %s; known: %s" % (", ".join(bad), ", ".join(FAULTS)))
    return faults


# ---------------------------------------------------------------------------
# The handler
# ---------------------------------------------------------------------------
class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-llm/1.0"
    timeout = 120  # an idle keep-alive connection is dropped after this

    def setup(self):
        super().setup()
        # headers and body go out in two writes: without this the body waits
        # for the client's delayed ACK (~40 ms per request on a reused
        # connection), which would show up in the provider benchmark
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, fmt, *args):
        if self.server.state.opts.verbose:
            sys.stderr.write("llm_server: %s\n" % (fmt % args))

    # -- sending ----------------------------------------------------------
    def settle(self, status):
        """Before a completion answer leaves: its status into the log, and the
        request out of the in-flight gauge, so a client that reads /_stats
        right after its answer sees both."""
        pending, self.pending = getattr(self, "pending", None), None
        if pending is not None:
            state, entry = pending
            if entry is not None:
                entry["status"] = status
            state.end()

    def send(self, status, body, ctype="application/json", headers=None):
        data = body if isinstance(body, bytes) else (
            body.encode("utf-8") if isinstance(body, str) else json.dumps(body).encode("utf-8"))
        self.settle(status)
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, socket.timeout, OSError):
            self.close_connection = True

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def drop(self):
        """Close without an answer (RST, as a crashed proxy would)."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
        except OSError:
            pass

    # -- routing ----------------------------------------------------------
    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path.endswith("/_stats"):
            self.send(200, self.server.state.stats())
        else:
            self.not_found(path)

    def do_POST(self):
        path = self.path.split("?", 1)[0]
        raw = self.read_body()
        state = self.server.state
        if path.endswith("/chat/completions"):
            self.completion(path, raw, "openai")
        elif path.endswith("/messages"):
            self.completion(path, raw, "anthropic")
        elif path.endswith("/_faults"):
            try:
                req = json.loads(raw or b"{}")
                faults = req.get("faults", [])
                if not isinstance(faults, list) or not all(isinstance(f, str) for f in faults):
                    raise ValueError("'faults' must be a list of names")
                parse_faults(",".join(faults))
                state.set_faults(faults, bool(req.get("cycle", False)))
            except (ValueError, AttributeError) as e:
                self.send(400, {"error": str(e)})
                return
            self.send(200, {"faults": faults, "cycle": bool(req.get("cycle", False))})
        elif path.endswith("/_reset"):
            state.reset()
            self.send(200, {"reset": True})
        else:
            self.not_found(path)

    def do_PUT(self):
        self.read_body()
        self.not_found(self.path)

    do_DELETE = do_PUT

    def not_found(self, path):
        self.send(404, {"error": {"message": "Unknown path %s" % path, "type": "not_found_error",
                                  "param": None, "code": "unknown_url"}})

    # -- completions ------------------------------------------------------
    def completion(self, path, raw, api):
        state = self.server.state
        opts = state.opts
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            body = None
        logged = body if body is not None else raw.decode("utf-8", "replace")
        n = state.begin(path)
        self.pending = (state, None)
        try:
            try:
                if api == "openai":
                    msgs, system = check_openai(headers, body, opts.require_key)
                else:
                    msgs, system = check_anthropic(headers, body, opts.require_key)
            except RequestError as e:
                self.pending = (state, state.record(
                    path, headers, logged, "invalid" if e.status == 400 else "unauthorized"))
                self.send(e.status, e.body)
                return
            fault = state.take_fault()
            self.pending = (state, state.record(path, headers, logged, fault))
            if opts.latency > 0:
                time.sleep(opts.latency)
            self.answer(api, fault, n, body, msgs, system)
        finally:
            self.settle(0)  # no answer was sent (reset, or an exception)

    def answer(self, api, fault, n, body, msgs, system):
        opts = self.server.state.opts
        if fault == "reset":
            self.drop()
            return
        if fault in FAULT_ERRORS:
            status, oa, an = FAULT_ERRORS[fault]
            err = openai_error(oa[0], oa[1], oa[2]) if api == "openai" else anthropic_error(*an)
            hdrs = {"Retry-After": str(opts.retry_after)} if fault in RETRY_AFTER_FAULTS else {}
            self.send(status, err, headers=hdrs)
            return
        if fault == "html":
            self.send(502, HTML_502, "text/html")
            return
        if fault == "html200":
            self.send(200, HTML_200, "text/html; charset=utf-8")
            return
        if fault == "slow":
            time.sleep(opts.slow_s)
        if fault == "nocode":
            text = NOCODE_TEXT
        else:
            text = solution_text(msgs, system)
        prompt_chars = len(system) + sum(len(content_text(m.get("content"))) for m in msgs)
        p_tok, c_tok = prompt_chars // 4 + 1, len(text) // 4 + 1
        model = body["model"]
        if api == "openai":
            choices = [] if fault == "empty" else [{
                "index": 0, "message": {"role": "assistant", "content": text},
                "logprobs": None, "finish_reason": "stop"}]
            out = {"id": "chatcmpl-%d" % n, "object": "chat.completion",
                   "created": int(time.time()), "model": model, "choices": choices,
                   "usage": {"prompt_tokens": p_tok, "completion_tokens": c_tok,
                             "total_tokens": p_tok + c_tok}}
        else:
            content = [] if fault == "empty" else [{"type": "text", "text": text}]
            out = {"id": "msg_%d" % n, "type": "message", "role": "assistant", "model": model,
                   "content": content, "stop_reason": "end_turn", "stop_sequence": None,
                   "usage": {"input_tokens": p_tok, "output_tokens": c_tok}}
        data = json.dumps(out).encode("utf-8")
        if fault == "truncated":
            data = data[:len(data) // 2]
        self.send(200, data)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a slow answer must not hold up the exit
    request_queue_size = 128  # bursts of parallel workers
    allow_reuse_address = True


def write_port_file(path, port):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.rename(tmp, path)


def main(argv):
    ap = argparse.ArgumentParser(description="A fake LLM server (OpenAI and Anthropic).")
    ap.add_argument("--port-file", required=True, help="write the port here once listening")
    ap.add_argument("--port", type=int, default=0, help="port (default 0: any free one)")
    ap.add_argument("--latency", type=float, default=0.0,
                    help="seconds to sleep before every completion answer")
    ap.add_argument("--faults", default="", help="comma-separated fault schedule")
    ap.add_argument("--cycle", action="store_true", help="repeat the fault schedule")
    ap.add_argument("--retry-after", type=int, default=1,
                    help="Retry-After seconds on 429/503/529 (default 1)")
    ap.add_argument("--slow-s", type=float, default=30.0,
                    help="how long a 'slow' fault sleeps (default 30)")
    ap.add_argument("--require-key", default=None, help="the only API key accepted")
    ap.add_argument("--verbose", action="store_true", help="log requests to stderr")
    opts = ap.parse_args(argv)
    try:
        opts.faults = parse_faults(opts.faults)
    except ValueError as e:
        ap.error(str(e))

    stop = threading.Event()
    parent = os.getppid()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def watch_parent():
        while not stop.is_set():
            if os.getppid() != parent:
                stop.set()
                return
            time.sleep(0.5)

    server = Server(("127.0.0.1", opts.port), Handler)
    server.state = State(opts)
    threading.Thread(target=watch_parent, name="parent-watch", daemon=True).start()
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                     name="serve", daemon=True).start()
    write_port_file(opts.port_file, server.server_address[1])
    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
