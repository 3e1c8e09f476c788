#!/usr/bin/env python3
"""make-example-tasks.py OUTDIR — build small Kaggle-style example tasks.

Each task is laid out like an MLE-bench "prepared" competition:

    OUTDIR/<task>/public/description.md      what to predict, metric, format
    OUTDIR/<task>/public/train.csv           id, features, label column(s)
    OUTDIR/<task>/public/test.csv            id, features (no labels)
    OUTDIR/<task>/public/sample_submission.csv
    OUTDIR/<task>/private/answers.csv        the truth, for grading

The data comes from datasets bundled with scikit-learn (no network), from
its seeded generators, and from the R package modeldata (Debian's
r-cran-modeldata, read through Rscript); everything is deterministic (fixed
seeds), so running the script twice gives byte-identical files.  Run it with
an interpreter that has numpy, pandas, scikit-learn and PIL, e.g.
/usr/bin/python3 (python3-sklearn, python3-pandas, python3-pil).

A task whose source is missing (no Rscript, no modeldata, no PIL) is
skipped with one line on stderr naming the Debian package to install; the
other tasks are still built, and the exit status is 1.
"""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd
from sklearn import datasets
from sklearn.model_selection import train_test_split

SEED = 20240601
TEST_SIZE = 0.2

EVAL_TEXT = {
    "accuracy": "Submissions are evaluated on **accuracy**, the fraction of "
                "test rows whose predicted label equals the true label.",
    "log_loss": "Submissions are evaluated using the **multi-class logarithmic "
                "loss** (log loss). Each row must give a predicted probability "
                "for every class; probabilities are clipped to [1e-15, 1 - 1e-15] "
                "and each row is rescaled to sum to one. Lower is better.",
    "roc_auc": "Submissions are evaluated on the **area under the ROC curve** "
               "(ROC AUC) between the predicted probability and the observed "
               "target.",
    "rmse": "Submissions are evaluated on the **root mean squared error "
            "(RMSE)** between the predicted and the actual values. Lower is "
            "better.",
    "mcrmse": "Submissions are scored using the **mean columnwise root mean "
              "squared error (MCRMSE)**: the RMSE of each target column, "
              "averaged over the target columns. Lower is better.",
    "f1": "Submissions are evaluated on the **F1 score** of the positive "
          "class (`{pos}`), the harmonic mean of precision and recall.",
}


def write_task(out, name, title, overview, train, test, sample, answers,
               metric, fmt, data_notes, metric_args=None):
    pub = os.path.join(out, name, "public")
    priv = os.path.join(out, name, "private")
    os.makedirs(pub, exist_ok=True)
    os.makedirs(priv, exist_ok=True)
    train.to_csv(os.path.join(pub, "train.csv"), index=False)
    test.to_csv(os.path.join(pub, "test.csv"), index=False)
    sample.to_csv(os.path.join(pub, "sample_submission.csv"), index=False)
    answers.to_csv(os.path.join(priv, "answers.csv"), index=False)
    evaluation = EVAL_TEXT[metric].format(**(metric_args or {}))
    head = sample.head(3).to_csv(index=False).strip()
    text = f"""# {title}

## Overview

{overview}

## Evaluation

{evaluation}

## Submission File

{fmt}

```
{head}
...
```

## Data

- **train.csv** — the training set ({len(train)} rows), with the target.
- **test.csv** — the test set ({len(test)} rows), without the target.
- **sample_submission.csv** — a sample submission in the correct format.

{data_notes}
"""
    with open(os.path.join(pub, "description.md"), "w") as f:
        f.write(text)
    print(f"{name}: {len(train)} train rows, {len(test)} test rows, metric {metric}")


def split(X, y, stratify, seed=SEED):
    """Shuffle ids over the whole set, then split train/test."""
    n = len(X)
    rng = np.random.RandomState(seed)
    ids = rng.permutation(n) + 1000
    df = X.copy()
    df.insert(0, "id", ids)
    idx_train, idx_test = train_test_split(
        np.arange(n), test_size=TEST_SIZE, random_state=seed,
        stratify=y if stratify else None)
    return df, idx_train, idx_test


def task_iris(out):
    d = datasets.load_iris()
    cols = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    X = pd.DataFrame(d.data, columns=cols)
    y = pd.Series(np.array(d.target_names)[d.target], name="species")
    df, tr, te = split(X, y, True)
    train = df.iloc[tr].assign(species=y.iloc[tr].values)
    test = df.iloc[te]
    sample = pd.DataFrame({"id": test["id"].values, "species": "setosa"})
    answers = pd.DataFrame({"id": test["id"].values, "species": y.iloc[te].values})
    write_task(out, "iris", "Iris Species",
               "Predict the species of an iris flower (`setosa`, `versicolor` "
               "or `virginica`) from four measurements of its sepals and "
               "petals, in centimetres.",
               train, test, sample, answers, "accuracy",
               "For each `id` in the test set, predict the `species` label. "
               "The file should contain a header and have the following format:",
               "Columns: `id`, the four measurements, and `species` (train only).")


def task_wine(out):
    d = datasets.load_wine()
    X = pd.DataFrame(d.data, columns=[c.replace("/", "_") for c in d.feature_names])
    y = pd.Series(d.target, name="cultivar")
    df, tr, te = split(X, y, True)
    train = df.iloc[tr].assign(cultivar=y.iloc[tr].values)
    test = df.iloc[te]
    classes = sorted(np.unique(y))
    sample = pd.DataFrame({"id": test["id"].values})
    for c in classes:
        sample[f"class_{c}"] = round(1.0 / len(classes), 6)
    answers = pd.DataFrame({"id": test["id"].values, "cultivar": y.iloc[te].values})
    write_task(out, "wine", "Wine Cultivars",
               "Thirteen chemical measurements were taken from wines grown in "
               "the same region of Italy by three different cultivators. "
               "Predict the cultivar (`cultivar`: 0, 1 or 2) of each test wine, "
               "as a probability for each of the three cultivars.",
               train, test, sample, answers, "log_loss",
               "For each `id` in the test set, submit a probability for each "
               "cultivar: column `class_k` holds the probability that the "
               "wine's `cultivar` is `k`. The file should contain a header and "
               "have the following format:",
               "Columns: `id`, thirteen chemical measurements, and `cultivar` "
               "(train only).")


def task_breast_cancer(out):
    d = datasets.load_breast_cancer()
    X = pd.DataFrame(d.data, columns=[c.replace(" ", "_") for c in d.feature_names])
    y = pd.Series(d.target, name="target")
    df, tr, te = split(X, y, True)
    train = df.iloc[tr].assign(target=y.iloc[tr].values)
    test = df.iloc[te]
    sample = pd.DataFrame({"id": test["id"].values, "target": 0.5})
    answers = pd.DataFrame({"id": test["id"].values, "target": y.iloc[te].values})
    write_task(out, "breast_cancer", "Breast Cancer Diagnosis",
               "Features are computed from a digitized image of a fine needle "
               "aspirate of a breast mass. Predict the probability that a "
               "mass is benign (`target` = 1) rather than malignant "
               "(`target` = 0).",
               train, test, sample, answers, "roc_auc",
               "For each `id` in the test set, predict the probability that "
               "`target` is 1. The file should contain a header and have the "
               "following format:",
               "Columns: `id`, thirty numeric features, and `target` (train only).")


def task_digits(out):
    d = datasets.load_digits()
    X = pd.DataFrame(d.data.astype(int), columns=[f"pixel_{i}" for i in range(64)])
    y = pd.Series(d.target, name="digit")
    df, tr, te = split(X, y, True)
    train = df.iloc[tr].assign(digit=y.iloc[tr].values)
    test = df.iloc[te]
    sample = pd.DataFrame({"id": test["id"].values, "digit": 0})
    answers = pd.DataFrame({"id": test["id"].values, "digit": y.iloc[te].values})
    write_task(out, "digits", "Handwritten Digits",
               "Each row is an 8x8 image of a handwritten digit; `pixel_0` to "
               "`pixel_63` are the grey levels (0-16) of its pixels, row by "
               "row. Predict the digit (0-9) each image shows.",
               train, test, sample, answers, "accuracy",
               "For each `id` in the test set, predict the `digit`. The file "
               "should contain a header and have the following format:",
               "Columns: `id`, 64 pixel columns, and `digit` (train only).")


def task_diabetes(out):
    try:
        d = datasets.load_diabetes(scaled=False)
    except TypeError:  # scikit-learn < 1.1
        d = datasets.load_diabetes()
    names = ["age", "sex", "bmi", "bp", "tc", "ldl", "hdl", "tch", "ltg", "glu"]
    X = pd.DataFrame(d.data, columns=names)
    y = pd.Series(d.target, name="progression")
    df, tr, te = split(X, y, False)
    train = df.iloc[tr].assign(progression=y.iloc[tr].values)
    test = df.iloc[te]
    sample = pd.DataFrame({"id": test["id"].values,
                           "progression": round(float(y.iloc[tr].mean()), 1)})
    answers = pd.DataFrame({"id": test["id"].values,
                            "progression": y.iloc[te].values})
    write_task(out, "diabetes", "Diabetes Progression",
               "Ten baseline variables (age, sex, body mass index, average "
               "blood pressure and six blood serum measurements) were obtained "
               "for diabetes patients. Predict `progression`, a quantitative "
               "measure of disease progression one year after baseline.",
               train, test, sample, answers, "rmse",
               "For each `id` in the test set, predict `progression`. The file "
               "should contain a header and have the following format:",
               "Columns: `id`, ten baseline variables, and `progression` "
               "(train only).")


def task_multitarget(out):
    # scikit-learn's linnerud set has only 20 rows (16 train / 4 test): too
    # few for a meaningful validation score, so a seeded generator stands in
    # for a multi-target regression task.
    X, Y = datasets.make_regression(n_samples=600, n_features=12,
                                    n_informative=8, n_targets=3,
                                    noise=10.0, random_state=SEED)
    rng = np.random.RandomState(SEED)
    Y[:, 1] = Y[:, 1] + 0.01 * Y[:, 0] ** 2 / 10
    Y[:, 2] = np.sin(X[:, 0]) * 50 + Y[:, 2] * 0.5 + rng.normal(0, 5, len(X))
    X = pd.DataFrame(np.round(X, 5), columns=[f"f{i:02d}" for i in range(12)])
    targets = ["target_a", "target_b", "target_c"]
    Yd = pd.DataFrame(np.round(Y, 4), columns=targets)
    df, tr, te = split(X, None, False)
    train = pd.concat([df.iloc[tr].reset_index(drop=True),
                       Yd.iloc[tr].reset_index(drop=True)], axis=1)
    test = df.iloc[te]
    sample = pd.DataFrame({"id": test["id"].values})
    answers = pd.DataFrame({"id": test["id"].values})
    for t in targets:
        sample[t] = 0.0
        answers[t] = Yd[t].iloc[te].values
    write_task(out, "multitarget", "Multi-Target Regression",
               "Predict three continuous targets (`target_a`, `target_b`, "
               "`target_c`) from twelve anonymised numeric features.",
               train, test, sample, answers, "mcrmse",
               "For each `id` in the test set, predict all three targets. The "
               "file should contain a header and have the following format:",
               "Columns: `id`, `f00`..`f11`, and the three targets (train only).")


def task_mixed(out):
    """Mixed column types: missing values, categoricals, dates, string labels."""
    rng = np.random.RandomState(SEED + 7)
    n = 1500
    plans = np.array(["basic", "standard", "premium"])
    regions = np.array([f"R{i:03d}" for i in range(60)])
    plan = plans[rng.randint(0, 3, n)]
    region = regions[rng.randint(0, 60, n)]
    tenure = rng.gamma(2.0, 12.0, n).round(1)
    charges = (20 + 30 * (plan == "standard") + 60 * (plan == "premium")
               + rng.normal(0, 8, n)).round(2)
    calls = rng.poisson(2.0, n)
    start = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.randint(0, 900, n), unit="D")
    region_risk = (np.arange(60) % 7 - 3) / 3.0
    logit = (-1.0 - 0.05 * tenure + 0.6 * calls + 0.02 * (charges - 50)
             + region_risk[np.searchsorted(regions, region)]
             + 0.8 * (start.month.values >= 10))
    churn = np.where(rng.rand(n) < 1 / (1 + np.exp(-logit)), "yes", "no")
    X = pd.DataFrame({"plan": plan, "region": region, "tenure_months": tenure,
                      "monthly_charges": charges, "support_calls": calls,
                      "start_date": start.strftime("%Y-%m-%d")})
    miss = rng.rand(n) < 0.08
    X.loc[miss, "tenure_months"] = np.nan
    X.loc[rng.rand(n) < 0.05, "plan"] = np.nan
    y = pd.Series(churn, name="churn")
    df, tr, te = split(X, y, True)
    train = df.iloc[tr].assign(churn=y.iloc[tr].values)
    test = df.iloc[te]
    sample = pd.DataFrame({"id": test["id"].values, "churn": "no"})
    answers = pd.DataFrame({"id": test["id"].values, "churn": y.iloc[te].values})
    write_task(out, "churn", "Subscriber Churn",
               "A (synthetic) telecom operator wants to know which subscribers "
               "will leave. Predict `churn` (`yes` or `no`) for each test "
               "subscriber from the plan, region, tenure, charges, support "
               "calls and contract start date. Some values are missing.",
               train, test, sample, answers, "f1",
               "For each `id` in the test set, predict `churn` as `yes` or "
               "`no`. The file should contain a header and have the following "
               "format:",
               "Columns: `id`, `plan`, `region`, `tenure_months`, "
               "`monthly_charges`, `support_calls`, `start_date` and `churn` "
               "(train only).", {"pos": "yes"})


class Unavailable(Exception):
    """The task's source data cannot be read here (a missing package)."""


R_INSTALL = "apt-get install r-cran-modeldata (Debian; it brings r-base-core)"


def modeldata(objects):
    """The data frames of R package modeldata named in objects, as pandas
    frames (every column read as text; the caller converts).  The R data
    set each object lives in is given as {object: dataset}."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        raise Unavailable(f"Rscript not found; {R_INSTALL}")
    code = ('a <- commandArgs(TRUE); '
            'if (!requireNamespace("modeldata", quietly = TRUE)) quit(status = 3); '
            'e <- new.env(); '
            'for (i in seq(2, length(a), by = 2)) { '
            'data(list = a[i + 1], package = "modeldata", envir = e); '
            'write.csv(as.data.frame(get(a[i], envir = e)), '
            'file.path(a[1], paste0(a[i], ".csv")), row.names = FALSE, '
            'fileEncoding = "UTF-8") }')
    env = dict(os.environ, LC_ALL="C.UTF-8", LANG="C.UTF-8")
    with tempfile.TemporaryDirectory(prefix="aml-modeldata-") as tmp:
        args = [rscript, "--vanilla", "-e", code, tmp]
        for name, dataset in objects.items():
            args += [name, dataset]
        r = subprocess.run(args, env=env, capture_output=True, text=True)
        if r.returncode == 3:
            raise Unavailable(f"R package modeldata not installed; {R_INSTALL}")
        if r.returncode != 0:
            last = (r.stderr.strip().splitlines() or ["no message"])[-1]
            raise Unavailable(f"Rscript failed ({last}); {R_INSTALL}")
        return {name: pd.read_csv(os.path.join(tmp, name + ".csv"), dtype=str,
                                  keep_default_na=False, encoding="utf-8")
                for name in objects}


def task_reviews(out):
    """Text: Amazon fine food reviews, modeldata's small_fine_foods.  Its own
    train/test split is kept (the test reviews are of other products)."""
    d = modeldata({"training_data": "small_fine_foods",
                   "testing_data": "small_fine_foods"})
    tr, te = d["training_data"], d["testing_data"]
    rng = np.random.RandomState(SEED + 11)
    ids = rng.permutation(len(tr) + len(te)) + 1000
    great = lambda df: (df["score"] == "great").astype(int).values
    train = pd.DataFrame({"id": ids[:len(tr)], "product": tr["product"].values,
                          "review": tr["review"].values, "great": great(tr)})
    test = pd.DataFrame({"id": ids[len(tr):], "product": te["product"].values,
                         "review": te["review"].values})
    sample = pd.DataFrame({"id": test["id"].values, "great": 0.5})
    answers = pd.DataFrame({"id": test["id"].values, "great": great(te)})
    write_task(out, "reviews", "Fine Food Reviews",
               "This is a text classification task. Each row is a customer "
               "review of a fine food product sold on Amazon: the product's "
               "code and the free text of the review (English, as written, "
               "with some HTML line breaks `<br />`). Predict the probability "
               "that the reviewer gave the product five stars (`great` = 1) "
               "rather than fewer (`great` = 0). The test reviews are of "
               "other products than the training reviews.",
               train, test, sample, answers, "roc_auc",
               "For each `id` in the test set, predict the probability that "
               "`great` is 1. The file should contain a header and have the "
               "following format:",
               "Columns: `id`, `product` (Amazon product code), `review` "
               "(text) and `great` (train only).\n\nSource: the "
               "`small_fine_foods` data of the R package modeldata, a sample "
               "of the Stanford SNAP Amazon Fine Foods reviews.")


CHICAGO_WEATHER = ["temp_min", "temp", "temp_max", "temp_change", "dew",
                   "humidity", "pressure", "pressure_change", "wind",
                   "wind_max", "gust", "gust_max", "percip", "percip_max",
                   "weather_rain", "weather_snow", "weather_cloud",
                   "weather_storm"]
CHICAGO_SPORTS = [f"{team}_{where}" for team in
                  ("Blackhawks", "Bulls", "Bears", "WhiteSox", "Cubs")
                  for where in ("Away", "Home")]
HORIZON = 84


def task_ridership(out):
    """Time series: daily entries at Chicago's Clark/Lake L station,
    modeldata's Chicago; the test set is the last 12 weeks.  The station
    columns (14-day lags of other stations, and Clark_Lake is ridership
    itself 14 days earlier) are dropped: over an 84-day horizon they would
    leak the test period."""
    c = modeldata({"Chicago": "Chicago"})["Chicago"]
    c = c.sort_values("date", kind="stable").reset_index(drop=True)
    df = pd.DataFrame({"id": np.arange(1, len(c) + 1), "date": c["date"].values})
    # R writes 15 significant digits (0.119999999999997): round them off.
    for col in CHICAGO_WEATHER:
        df[col] = np.round(pd.to_numeric(c[col]).values, 6)
    for col in CHICAGO_SPORTS:
        df[col] = pd.to_numeric(c[col]).astype(int).values
    y = np.round(pd.to_numeric(c["ridership"]).values, 4)
    n_train = len(df) - HORIZON
    train = df.iloc[:n_train].assign(ridership=y[:n_train])
    test = df.iloc[n_train:]
    sample = pd.DataFrame({"id": test["id"].values,
                           "ridership": round(float(y[:n_train].mean()), 3)})
    answers = pd.DataFrame({"id": test["id"].values, "ridership": y[n_train:]})
    first, last = test["date"].iloc[0], test["date"].iloc[-1]
    write_task(out, "ridership", "Chicago L Ridership Forecast",
               "This is a time series forecasting task. `ridership` is the "
               "number of people (in thousands) who entered the Clark/Lake "
               "station of Chicago's L trains each day, from "
               f"{train['date'].iloc[0]} to {train['date'].iloc[-1]}. "
               f"Forecast the daily ridership of the next {HORIZON} days "
               f"(12 weeks, {first} to {last}). Each day also comes with its "
               "weather (as observed that day) and whether Chicago's "
               "Blackhawks, Bulls, Bears, White Sox and Cubs played at home "
               "or away.",
               train, test, sample, answers, "rmse",
               "For each `id` in the test set, predict `ridership`. The file "
               "should contain a header and have the following format:",
               "Columns: `id` (a running day number), `date` (yyyy-mm-dd, "
               "one row per day, no gaps), eighteen weather columns "
               "(temperatures in degrees Fahrenheit, dew point, humidity, pressure, wind, "
               "gusts, precipitation `percip`, and the fraction of the day "
               "with rain, snow, clouds or storms), ten 0/1 sports columns "
               "(`<team>_Home`, `<team>_Away`), and `ridership` (train only). "
               "The test rows are the days right after the last training day."
               "\n\nSource: the `Chicago` data of the R package modeldata "
               "(Kuhn and Johnson, *Feature Engineering and Selection*).")


IMAGE_SIZE = 16


def task_digit_images(out):
    """Images as files: scikit-learn's digits as 16x16 PNGs (the 8x8 grey
    levels 0-16 scaled to 0-255, then each pixel doubled: nearest-neighbour
    upscaling, so nothing is invented), split with another seed than
    `digits`."""
    try:
        from PIL import Image
    except ImportError:
        raise Unavailable("PIL not found; apt-get install python3-pil")
    d = datasets.load_digits()
    X = pd.DataFrame(index=range(len(d.target)))
    y = pd.Series(d.target, name="label")
    df, tr, te = split(X, y, True, seed=SEED + 6)
    pub = os.path.join(out, "digit_images", "public")
    for part, idx in (("train", tr), ("test", te)):
        folder = os.path.join(pub, part)
        if os.path.isdir(folder):
            shutil.rmtree(folder)
        os.makedirs(folder)
        for i in idx:
            grey = np.round(d.images[i] * (255.0 / 16.0)).astype(np.uint8)
            img = Image.fromarray(grey, mode="L").resize(
                (IMAGE_SIZE, IMAGE_SIZE), Image.NEAREST)
            img.save(os.path.join(folder, f"{df['id'].iloc[i]}.png"))
    train = df.iloc[tr].assign(label=y.iloc[tr].values)
    test = df.iloc[te]
    sample = pd.DataFrame({"id": test["id"].values, "label": 0})
    answers = pd.DataFrame({"id": test["id"].values, "label": y.iloc[te].values})
    write_task(out, "digit_images", "Handwritten Digit Images",
               "This is an image classification task. Each image is a "
               f"{IMAGE_SIZE}x{IMAGE_SIZE} greyscale PNG of one handwritten "
               "digit, white on black. Predict the digit (0-9) each test "
               "image shows.",
               train, test, sample, answers, "accuracy",
               "For each `id` in the test set, predict the `label`. The file "
               "should contain a header and have the following format:",
               "Columns: `id` and `label` (the digit, train only). The image "
               "of row `id` is `train/<id>.png` or `test/<id>.png`.\n\n"
               "Source: scikit-learn's `load_digits` (UCI optical "
               "recognition of handwritten digits), 8x8 images with 17 grey "
               "levels, enlarged to 16x16 by repeating each pixel.")


TASKS = [task_iris, task_wine, task_breast_cancer, task_digits,
         task_diabetes, task_multitarget, task_mixed, task_reviews,
         task_ridership, task_digit_images]


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: make-example-tasks.py OUTDIR\n")
        return 2
    out = argv[1]
    os.makedirs(out, exist_ok=True)
    status = 0
    for make in TASKS:
        try:
            make(out)
        except Unavailable as e:
            sys.stderr.write(f"{make.__name__[5:]}: not built: {e}\n")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
