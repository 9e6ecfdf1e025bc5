#!/usr/bin/python3
"""Writes tests/golden/fixtures/classification_metrics.json: scikit-learn's answers for the cases that
tests/unit/eval/classification_metrics_test.cpp replays. Run by hand with Debian's python3-sklearn
(scripts/install-deps --references), not by CI:  /usr/bin/python3 tests/tools/gen_metrics_fixtures.py
"""
import json
import os
import random

import numpy as np
from sklearn.metrics import (accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support,
                             precision_score, recall_score, roc_auc_score)


def case(name, n_classes, y_true, y_pred, scores=None):
    labels = list(range(n_classes))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    out = {
        "name": name, "n_classes": n_classes, "y_true": y_true, "y_pred": y_pred, "scores": scores,
        "accuracy": accuracy_score(y_true, y_pred),
        "per_class": [[float(p[i]), float(r[i]), float(f[i]), int(s[i])] for i in labels],
        "confusion": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "roc_auc": None,
    }
    for avg in ("macro", "micro", "weighted"):  # sklearn's default label set: classes present in either
        out[avg + "_precision"] = precision_score(y_true, y_pred, average=avg, zero_division=0)
        out[avg + "_recall"] = recall_score(y_true, y_pred, average=avg, zero_division=0)
        out[avg + "_f1"] = f1_score(y_true, y_pred, average=avg, zero_division=0)
    if scores is not None and len(set(y_true)) == 2:
        out["roc_auc"] = roc_auc_score(y_true, scores)
    return out


rng = random.Random(7)
cases = []
# 5 classes the model knows, class 4 never occurs; noisy predictions.
y_true = [rng.randrange(4) for _ in range(200)]
y_pred = [t if rng.random() < 0.6 else rng.randrange(4) for t in y_true]
cases.append(case("multiclass_with_unseen_class", 5, y_true, y_pred))
# class 2 only predicted, class 3 only true.
cases.append(case("predicted_only_and_true_only", 4, [0, 0, 1, 1, 3, 3, 0, 1], [0, 2, 1, 1, 0, 1, 2, 0]))
# binary with scores, many ties.
y_true = [rng.randrange(2) for _ in range(300)]
scores = [round(min(1.0, max(0.0, 0.5 + (0.25 if t else -0.25) + rng.gauss(0, 0.3))), 1) for t in y_true]
cases.append(case("binary_with_tied_scores", 2, y_true, [int(s >= 0.5) for s in scores], scores))
# binary, one class in the truth: ROC-AUC undefined.
cases.append(case("binary_one_class_truth", 2, [1, 1, 1, 1], [1, 0, 1, 1], [0.9, 0.2, 0.8, 0.7]))
cases.append(case("perfect", 3, [0, 1, 2, 2, 1], [0, 1, 2, 2, 1]))
cases.append(case("all_wrong", 2, [0, 0, 1], [1, 1, 0], [0.9, 0.8, 0.1]))

path = os.path.join(os.path.dirname(__file__), "..", "golden", "fixtures", "classification_metrics.json")
with open(path, "w") as f:
    json.dump({"generator": "scikit-learn " + __import__("sklearn").__version__, "cases": cases}, f, indent=1)
print("wrote", os.path.normpath(path), len(cases), "cases")
