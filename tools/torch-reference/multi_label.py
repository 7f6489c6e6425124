"""PyTorch's BCEWithLogitsLoss and scikit-learn's average_precision_score on fixed scores and
multi-hot targets: the reference @rxvision/train's sigmoidCrossEntropy and @rxvision/metrics'
meanAveragePrecision are tested against (packages/train/test/fixtures/sigmoid-cross-entropy.json,
packages/metrics/test/fixtures/average-precision.json).

Scores are rounded to one decimal in one case, so that ties (which average precision treats as
one threshold) occur; one class has a single positive, one has all but one.

Usage: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 tools/torch-reference/multi_label.py \
  packages/train/test/fixtures/sigmoid-cross-entropy.json packages/metrics/test/fixtures/average-precision.json
(needs python3-torch and python3-sklearn)
"""
import json
import sys

import numpy as np
import sklearn
import torch
from sklearn.metrics import average_precision_score

generator = np.random.default_rng(36)
losses, precisions = [], []
for rows, classes, decimals in [(40, 5, None), (64, 4, 1), (7, 3, None)]:
    targets = (generator.random((rows, classes)) < 0.35).astype(np.float32)
    targets[:, 0] = 0
    targets[rows // 2, 0] = 1  # a class with one positive
    targets[:, 1] = 1
    targets[1, 1] = 0  # a class with all but one
    # Scores that know something of the targets, as a model's would.
    scores = (generator.normal(size=(rows, classes)) + 1.2 * targets).astype(np.float32)
    if decimals is not None:
        scores = np.round(scores, decimals).astype(np.float32)
    weights = np.linspace(0.5, 3, classes).astype(np.float32)
    logits, truth = torch.from_numpy(scores), torch.from_numpy(targets)
    case = {'classes': classes, 'scores': scores.reshape(-1).tolist(), 'targets': targets.reshape(-1).tolist()}
    losses.append({
        **case,
        'positiveWeights': weights.tolist(),
        'loss': torch.nn.BCEWithLogitsLoss()(logits, truth).item(),
        'weightedLoss': torch.nn.BCEWithLogitsLoss(pos_weight=torch.from_numpy(weights))(logits, truth).item(),
    })
    precisions.append({
        **case,
        'averagePrecision': average_precision_score(targets, scores, average=None).tolist(),
        'meanAveragePrecision': average_precision_score(targets, scores, average='macro'),
    })

for path, cases, versions in [(sys.argv[1], losses, {'torch': torch.__version__}), (sys.argv[2], precisions, {'sklearn': sklearn.__version__})]:
    with open(path, 'w') as file:
        json.dump({**versions, 'cases': cases}, file)
        file.write('\n')
