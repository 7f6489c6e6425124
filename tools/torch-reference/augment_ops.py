"""torchvision 0.14's TrivialAugmentWide and RandAugment operations (autoaugment._apply_op, nearest,
no fill) on fixed images and fixed magnitudes, and their tables of magnitudes: the reference
@rxvision/stream's applyAugmentOp kernel and augmentation spaces are tested against
(packages/stream/test/fixtures/torchvision-augment-ops.json).

Pixels are float in [0, 1], as rxvision's; Posterize and Equalize, which torchvision runs on uint8
only, get the 8-bit image and give 8-bit values (written here divided by 255). Solarize's threshold,
255 … 0 in the table, is divided by 255 for float pixels.

Usage: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 tools/torch-reference/augment_ops.py \
  ../shared/data/cifar-10-binary.tar.gz OUT.json
"""
import json
import sys

import torch
import torchvision
from torchvision.transforms import InterpolationMode
from torchvision.transforms.autoaugment import RandAugment, TrivialAugmentWide, _apply_op
from cifar_images import cifar_test_images, encode

torch.set_num_threads(1)

bytes_ = [torch.from_numpy(image.copy()) for image in cifar_test_images(sys.argv[1], 3)]
# Small, to keep the fixture small: the middle 12×12 of the first test image (a cat), a 9×14
# window of the second (a ship), so that height and width differ; and the whole third for
# Equalize, which leaves an image of fewer than 256 pixels as it is.
inputs = [bytes_[0][:, 10:22, 10:22].contiguous(), bytes_[1][:, 8:17, 6:20].contiguous(), bytes_[2]]
WHOLE_IMAGE_OPS = {'Equalize', 'AutoContrast'}

MAGNITUDES = {
    'Identity': [0.0],
    'ShearX': [0.33, -0.99],
    'ShearY': [0.6270000338554382],
    'TranslateX': [5.0, -12.0],
    'TranslateY': [-5.0],
    'Rotate': [-135.0],
    'Brightness': [0.5],
    'Color': [-0.99],
    'Contrast': [0.5],
    'Sharpness': [0.99, -0.5],
    'Posterize': [5, 2],
    'Solarize': [255.0, 127.5, 0.0],
    'AutoContrast': [0.0],
    'Equalize': [0.0],
}
EIGHT_BIT = {'Posterize', 'Equalize'}

cases = []
for i, image in enumerate(inputs):
    floats = image.float() / 255
    for op, magnitudes in MAGNITUDES.items():
        for magnitude in magnitudes:
            if i == 2 and op not in WHOLE_IMAGE_OPS:
                continue
            if op in EIGHT_BIT:
                out = _apply_op(image, op, magnitude, InterpolationMode.NEAREST, None).float() / 255
            else:
                argument = magnitude / 255 if op == 'Solarize' else magnitude
                out = _apply_op(floats, op, argument, InterpolationMode.NEAREST, None)
            cases.append({'image': i, 'op': op, 'magnitude': magnitude, 'output': encode(out)})


def table(space):
    return {
        'magnitudes': {op: [float(m) for m in magnitudes.reshape(-1)] for op, (magnitudes, _) in space.items()},
        'signed': {op: bool(signed) for op, (_, signed) in space.items()},
    }


spaces = {
    'trivialAugment': table(TrivialAugmentWide()._augmentation_space(31)),
    'randAugment 32x32': table(RandAugment()._augmentation_space(31, (32, 32))),
    'randAugment 9x14, 11 bins': table(RandAugment()._augmentation_space(11, (9, 14))),
}

with open(sys.argv[2], 'w') as file:
    json.dump({'torchvision': torchvision.__version__, 'images': [
        {'shape': list(image.permute(1, 2, 0).shape), 'pixels': encode(image.float() / 255)} for image in inputs
    ], 'spaces': spaces, 'cases': cases}, file)
    file.write('\n')
