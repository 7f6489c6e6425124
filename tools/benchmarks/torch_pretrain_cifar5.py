"""PyTorch pretrains the transfer benchmark's network on CIFAR-10's first five classes (airplane to
deer) and exports it with torch.onnx.export, for cifar10-transfer.js --pretrained-by pytorch.

The network is rxvision's `{ "type": "resnet", "stages": [24, 48, 96], "blocksPerStage": 1 }` written
in PyTorch (3x3 stem, one basic block a stage, 1x1 projections, global average pooling, dense);
22,500 training images (2,500 of the 25,000 held out), random crop (pad 4) and flip, CIFAR-10's
normalisation, Nesterov SGD (momentum 0.9, weight decay 5e-4), one-cycle per step, batch 128.
Prints a JSON line per epoch; writes OUT (ONNX, NCHW images, batch norms kept for fine-tuning).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 torch_pretrain_cifar5.py TARBALL OUT \\
        [--epochs 10] [--peak 0.1] [--threads 2] [--seed 43]
"""
import argparse
import json
import math
import tarfile
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("tarball")
parser.add_argument("out")
parser.add_argument("--epochs", type=int, default=10)
parser.add_argument("--peak", type=float, default=0.1)
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--seed", type=int, default=43)
args = parser.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(args.seed)
rng = np.random.default_rng(args.seed)

MEAN = torch.tensor([0.4914, 0.4822, 0.4465]).view(1, 3, 1, 1)
STD = torch.tensor([0.247, 0.2435, 0.2616]).view(1, 3, 1, 1)


def first_five(tarball):
    """The training images of labels 0-4, NCHW normalised, and their labels."""
    xs, ys = [], []
    with tarfile.open(tarball) as tar:
        for member in tar.getmembers():
            if member.name.endswith(".bin") and "data_batch" in member.name:
                raw = np.frombuffer(tar.extractfile(member).read(), np.uint8).reshape(-1, 3073)
                keep = raw[:, 0] < 5
                xs.append(raw[keep, 1:])
                ys.append(raw[keep, 0])
    x = torch.from_numpy(np.concatenate(xs).reshape(-1, 3, 32, 32).astype(np.float32)) / 255
    return (x - MEAN) / STD, torch.from_numpy(np.concatenate(ys).astype(np.int64))


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        projected = stride != 1 or cin != cout
        self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)) if projected else None

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + (x if self.shortcut is None else self.shortcut(x)))


class ResNet8(nn.Module):
    def __init__(self, stages=(24, 48, 96), classes=5):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, stages[0], 3, 1, 1, bias=False), nn.BatchNorm2d(stages[0]), nn.ReLU())
        blocks, channels = [], stages[0]
        for i, width in enumerate(stages):
            blocks.append(Block(channels, width, 2 if i > 0 else 1))
            channels = width
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(channels, classes)

    def forward(self, x):
        return self.fc(F.adaptive_avg_pool2d(self.blocks(self.stem(x)), 1).flatten(1))


def augment(x):
    """Random crop of the image padded by 4, and a horizontal flip, each image its own draw."""
    n = x.shape[0]
    padded = F.pad(x, (4, 4, 4, 4))
    dx, dy, flip = rng.integers(0, 9, n), rng.integers(0, 9, n), rng.random(n) < 0.5
    out = torch.empty_like(x)
    for i in range(n):
        crop = padded[i, :, dy[i] : dy[i] + 32, dx[i] : dx[i] + 32]
        out[i] = crop.flip(2) if flip[i] else crop
    return out


def accuracy(net, x, y):
    net.eval()
    with torch.no_grad():
        correct = sum((net(x[i : i + 1000]).argmax(1) == y[i : i + 1000]).sum().item() for i in range(0, len(x), 1000))
    net.train()
    return correct / len(x)


x, y = first_five(args.tarball)
order = torch.from_numpy(rng.permutation(len(x)))
train, held = order[2500:], order[:2500]
net = ResNet8()
optimizer = torch.optim.SGD(net.parameters(), lr=args.peak / 25, momentum=0.9, nesterov=True, weight_decay=5e-4)
batch = 128
steps = math.ceil(len(train) / batch)
total, step = steps * args.epochs, 0
warm = round(0.3 * total)


def rate(t):
    low = args.peak / 1e4
    if t < warm:
        return args.peak / 25 + (args.peak - args.peak / 25) * t / warm
    return low + (args.peak - low) * (1 + math.cos(math.pi * (t - warm) / max(1, total - 1 - warm))) / 2


started = time.time()
for epoch in range(args.epochs):
    epoch_start = time.time()
    shuffled = train[torch.from_numpy(rng.permutation(len(train)))]
    for s in range(steps):
        rows = shuffled[s * batch : (s + 1) * batch]
        for group in optimizer.param_groups:
            group["lr"] = rate(step)
        loss = F.cross_entropy(net(augment(x[rows])), y[rows])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        step += 1
    seconds = time.time() - epoch_start
    print(json.dumps({"epoch": epoch + 1, "seconds": round(seconds, 1), "validation": accuracy(net, x[held], y[held])}), flush=True)

net.eval()
torch.onnx.export(
    net,
    torch.zeros(1, 3, 32, 32),
    args.out,
    input_names=["images"],
    output_names=["logits"],
    dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}},
    training=torch.onnx.TrainingMode.PRESERVE,
    do_constant_folding=False,
    opset_version=13,
)
print(json.dumps({"seconds": round(time.time() - started), "validation": accuracy(net, x[held], y[held]), "onnx": args.out}))
