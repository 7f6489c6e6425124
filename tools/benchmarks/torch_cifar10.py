"""CIFAR-10 for the PyTorch twins (torch_airbench.py, torch_vgg.py): the binary tarball read whole, and
normalised as the experiments normalise it."""
import tarfile
import numpy as np, torch

MEAN = torch.tensor([0.4914, 0.4822, 0.4465]).view(1, 3, 1, 1); STD = torch.tensor([0.247, 0.2435, 0.2616]).view(1, 3, 1, 1)


def load(path):
    """Training images and labels (the five data batches), then the test split's, as uint8 rows."""
    xs, ys, tx, ty = [], [], None, None
    with tarfile.open(path) as t:
        for m in t.getmembers():
            if not m.name.endswith('.bin') or 'batch' not in m.name: continue
            raw = np.frombuffer(t.extractfile(m).read(), np.uint8).reshape(-1, 3073)
            if 'test' in m.name: tx, ty = raw[:, 1:], raw[:, 0]
            else: xs.append(raw[:, 1:]); ys.append(raw[:, 0])
    return np.concatenate(xs), np.concatenate(ys), tx, ty


def tensors(x):
    """uint8 rows as NCHW float32 images, normalised."""
    return ((torch.from_numpy(x.reshape(-1, 3, 32, 32).astype(np.float32)) / 255) - MEAN) / STD
