"""torchvision 0.14's colour adjustments and rotation on fixed images and fixed draws: the reference
@rxvision/stream's colorJitter and randomRotation kernels are tested against
(packages/stream/test/fixtures/torchvision-color-rotation.json).

Usage: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 tools/torch-reference/color_jitter_rotation.py \
  ../shared/data/cifar-10-binary.tar.gz OUT.json
"""
import json
import sys

import numpy as np
import torch
import torchvision.transforms.functional as F
from cifar_images import cifar_test_images, encode

torch.set_num_threads(1)

images = [torch.from_numpy(image.astype(np.float32) / 255) for image in cifar_test_images(sys.argv[1], 2)]
# Small, to keep the fixture small: the middle 16×16 of CIFAR-10's first test image (a cat), and a
# 12×18 window of its second (a ship), so that height and width differ.
inputs = [images[0][:, 8:24, 8:24].contiguous(), images[1][:, 6:18, 4:22].contiguous()]

ADJUST = [F.adjust_brightness, F.adjust_contrast, F.adjust_saturation, F.adjust_hue]
JITTERS = [
    {'order': [0, 1, 2, 3], 'factors': [1.3, 0.6, 1.5, 0.1]},
    {'order': [3, 2, 1, 0], 'factors': [0.7, 1.4, 0.2, -0.35]},
    {'order': [2, 0, 3, 1], 'factors': [None, 1.8, 0.0, 0.5]},
    {'order': [1, 3, 0, 2], 'factors': [1.05, None, None, -0.5]},
]
ANGLES = [0.0, 13.7, -45.0, 90.0, 180.3, -7.25, 33.3]

cases = {'jitter': [], 'rotation': []}
for i, image in enumerate(inputs):
    for jitter in JITTERS:
        out = image.clone()
        for which in jitter['order']:
            factor = jitter['factors'][which]
            if factor is not None:
                out = ADJUST[which](out, factor)
        cases['jitter'].append({'image': i, **jitter, 'output': encode(out)})
    for angle in ANGLES:
        out = F.rotate(image, angle, interpolation=F.InterpolationMode.NEAREST, fill=[0.25] * 3)
        cases['rotation'].append({'image': i, 'degrees': angle, 'fill': 0.25, 'output': encode(out)})

with open(sys.argv[2], 'w') as file:
    json.dump({'torchvision': __import__('torchvision').__version__, 'images': [
        {'shape': list(image.permute(1, 2, 0).shape), 'pixels': encode(image)} for image in inputs
    ], **cases}, file)
    file.write('\n')
