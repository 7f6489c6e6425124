"""PyTorch twin of experiments/cifar10-vgg.json for versus-pytorch.js's real epoch (--models vgg-epoch):
the VGG-style CNN (blocks of two 3x3 conv -> BN -> ReLU at 32-64-128, 2x2 max pool, global average
pool, linear), crop+flip, Nesterov SGD with weight decay, one-cycle per step, label smoothing 0.1,
batch 128 on a 45k/5k split; as ../shared/bench/torch_resnet8.py does for the ResNet.
--bf16 runs the forward pass under torch.autocast('cpu', bfloat16), PyTorch's own mixed precision
(convolutions in bf16 on oneDNN), for a bf16 comparison with rxvision's --precision bfloat16.
usage: python3 torch_vgg.py TARBALL [--epochs N] [--threads T] [--max-steps S] [--seed S] [--bf16]"""
import argparse, json, math, time
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
from torch_cifar10 import load, tensors

p = argparse.ArgumentParser()
p.add_argument('tarball'); p.add_argument('--epochs', type=int, default=17); p.add_argument('--threads', type=int, default=2)
p.add_argument('--max-steps', type=int, default=0); p.add_argument('--seed', type=int, default=43); p.add_argument('--peak', type=float, default=0.1)
p.add_argument('--bf16', action='store_true')
a = p.parse_args()
torch.set_num_threads(a.threads); torch.manual_seed(a.seed); rng = np.random.default_rng(a.seed)


X, Y, TX, TY = load(a.tarball)
perm = rng.permutation(len(X)); tr, va = perm[:45000], perm[45000:]
Xtr, Ytr = tensors(X[tr]), torch.from_numpy(Y[tr].astype(np.int64)); Xva, Yva = tensors(X[va]), torch.from_numpy(Y[va].astype(np.int64))


def vgg(blocks=(32, 64, 128), per_block=2):
    layers, c = [], 3
    for f in blocks:
        for _ in range(per_block):
            layers += [nn.Conv2d(c, f, 3, padding=1, bias=False), nn.BatchNorm2d(f, momentum=0.1), nn.ReLU()]; c = f
        layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 10))


model = vgg()
opt = torch.optim.SGD(model.parameters(), lr=a.peak / 25, momentum=0.9, nesterov=True, weight_decay=5e-4)
bs = 128; steps = math.ceil(45000 / bs); total = steps * a.epochs; warm = max(1, round(0.3 * total))
def lr_at(t):
    pk, lo = a.peak, a.peak / 1e4
    if t < warm: return pk / 25 + (pk - pk / 25) * t / warm
    return lo + (pk - lo) * (1 + math.cos(math.pi * (t - warm) / max(1, total - 1 - warm))) / 2
def augment(x):
    n = x.shape[0]; pad = F.pad(x, (4, 4, 4, 4)); out = torch.empty_like(x)
    dx, dy = rng.integers(0, 9, n), rng.integers(0, 9, n); flip = rng.random(n) < 0.5
    for i in range(n):
        c = pad[i, :, dy[i]:dy[i] + 32, dx[i]:dx[i] + 32]
        out[i] = c.flip(2) if flip[i] else c
    return out
def accuracy(x, y):
    model.eval(); correct = 0
    with torch.no_grad():
        for i in range(0, len(x), 1000): correct += (model(x[i:i + 1000]).argmax(1) == y[i:i + 1000]).sum().item()
    model.train(); return correct / len(x)


t = 0
for epoch in range(a.epochs):
    t0 = time.time(); order = torch.from_numpy(rng.permutation(45000)); seen = 0
    for s in range(steps):
        idx = order[s * bs:(s + 1) * bs]
        for g in opt.param_groups: g['lr'] = lr_at(t)
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=a.bf16):
            loss = F.cross_entropy(model(augment(Xtr[idx])), Ytr[idx], label_smoothing=0.1)
        opt.zero_grad(); loss.backward(); opt.step(); t += 1; seen += len(idx)
        if a.max_steps and s + 1 >= a.max_steps: break
    dt = time.time() - t0
    print(json.dumps({'epoch': epoch + 1, 'seconds': dt, 'samples_per_s': seen / dt, 'val_acc': accuracy(Xva, Yva)}), flush=True)
    if a.max_steps: break
