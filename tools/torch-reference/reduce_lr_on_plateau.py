"""PyTorch's ReduceLROnPlateau on fixed figure sequences: the reference @rxvision/train's plateau
schedule is tested against (packages/train/test/fixtures/reduce-lr-on-plateau.json).

Usage: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 tools/torch-reference/reduce_lr_on_plateau.py OUT.json
"""
import json
import math
import random
import sys

import torch

random.seed(7)


def walk(length, start, drift):
    """A noisy figure that improves, stalls and worsens: every branch of the scheduler is taken."""
    values, value = [], start
    for i in range(length):
        value += drift * (1 if i < length // 3 else -0.2 if i < 2 * length // 3 else 0.05) + random.gauss(0, abs(drift))
        values.append(round(value, 6))
    return values


SETTINGS = [
    {'mode': 'min', 'factor': 0.1, 'patience': 10, 'threshold': 1e-4, 'cooldown': 0, 'min_lr': 0},
    {'mode': 'min', 'factor': 0.5, 'patience': 2, 'threshold': 1e-2, 'cooldown': 0, 'min_lr': 0},
    {'mode': 'min', 'factor': 0.5, 'patience': 1, 'threshold': 0, 'cooldown': 2, 'min_lr': 0.01},
    {'mode': 'max', 'factor': 0.3, 'patience': 3, 'threshold': 1e-3, 'cooldown': 1, 'min_lr': 0},
    {'mode': 'max', 'factor': 0.2, 'patience': 0, 'threshold': 0, 'cooldown': 0, 'min_lr': 1e-4},
    # Figures near 10 with a 5% threshold: relative and absolute thresholds part ways.
    {'mode': 'min', 'factor': 0.5, 'patience': 1, 'threshold': 0.05, 'cooldown': 0, 'min_lr': 0, 'start': 10, 'drift': -0.3},
]

cases = []
for i, setting in enumerate(SETTINGS):
    start = setting.pop('start', 2.0 if setting['mode'] == 'min' else 0.3)
    drift = setting.pop('drift', -0.05 if setting['mode'] == 'min' else 0.02)
    figures = walk(60, start, drift)
    figures[20] = figures[19]  # an exact tie: not better
    parameter = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([parameter], lr=0.4)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, threshold_mode='rel', **setting)
    rates = [optimizer.param_groups[0]['lr']]  # epoch 1's
    for figure in figures:
        scheduler.step(figure)
        rates.append(optimizer.param_groups[0]['lr'])
    cases.append({'setting': setting, 'learningRate': 0.4, 'figures': figures, 'rates': rates})

with open(sys.argv[1], 'w') as out:
    json.dump({'torch': torch.__version__, 'cases': cases}, out, indent=1)
    out.write('\n')
