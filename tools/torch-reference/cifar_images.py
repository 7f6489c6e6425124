"""What the torchvision fixture scripts share: CIFAR-10's first test images, and images written as
the kernels read them."""
import base64
import tarfile

import numpy as np


def cifar_test_images(tarball, count):
    """The first `count` test images, uint8 CHW."""
    with tarfile.open(tarball) as tar:
        data = tar.extractfile('cifar-10-batches-bin/test_batch.bin').read()
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, 3073)[:count]
    return records[:, 1:].reshape(-1, 3, 32, 32)


def encode(tensor_chw):
    """HWC float32, little-endian, base64: the kernels' layout, every bit kept."""
    return base64.b64encode(tensor_chw.permute(1, 2, 0).contiguous().numpy().astype('<f4').tobytes()).decode()
