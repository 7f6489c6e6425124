"""PyTorch's twin of experiments/cifar10-fast.json, for side-by-side time and accuracy on one machine.

The same network (2x2 patch whitening set from 5,000 training images and frozen, GELU, three blocks of
conv-pool-BN-GELU-conv-BN-GELU with dirac-started convolutions and BN scales frozen at 1, 3x3 max pool,
bias-free linear head times 1/9), the same data (49,000 training images, 1,000 held out, normalised),
alternating flip and 2-pixel reflect translate, Nesterov SGD (momentum 0.85) with batch-norm biases at 64
times the rate, the whitening bias trained 3 epochs, airbench's triangle schedule per step, lookahead
every 5 steps, label smoothing 0.2, and six-view test-time augmentation on the test split. Batch 512 as
the experiment file (airbench's 1024 does not fit tfjs's wasm heap), the rate scaled with it: peak 0.75
for a mean loss is airbench's 1.5 at 1024.
Written from the paper and airbench's public source (arXiv 2404.00498), float32 on the CPU.

usage: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 torch_airbench.py TARBALL [--epochs 10] [--threads 2] [--batch-size 512] [--max-steps S] [--widths 64,256,256]
Prints one JSON line per epoch and one for the test split."""
import argparse, json, math, time
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
from torch_cifar10 import load, tensors

p = argparse.ArgumentParser()
p.add_argument('tarball'); p.add_argument('--epochs', type=int, default=10); p.add_argument('--threads', type=int, default=2)
p.add_argument('--max-steps', type=int, default=0); p.add_argument('--batch-size', type=int, default=512); p.add_argument('--seed', type=int, default=43); p.add_argument('--widths', default='64,256,256')
a = p.parse_args()
torch.set_num_threads(a.threads); torch.manual_seed(a.seed); rng = np.random.default_rng(a.seed)
widths = [int(w) for w in a.widths.split(',')]

X, Y, TX, TY = load(a.tarball)
perm = rng.permutation(len(X)); tr, va = perm[:49000], perm[49000:]
Xtr, Ytr = tensors(X[tr]), torch.from_numpy(Y[tr].astype(np.int64)); Xva, Yva = tensors(X[va]), torch.from_numpy(Y[va].astype(np.int64))
Xte, Yte = tensors(TX), torch.from_numpy(TY.astype(np.int64))

class BN(nn.BatchNorm2d):
    def __init__(s, c):
        super().__init__(c, eps=1e-12, momentum=0.4)  # torch's momentum: the new batch's share
        s.weight.requires_grad = False
class Conv(nn.Conv2d):
    def __init__(s, cin, cout, k=3, padding='same', bias=False):
        super().__init__(cin, cout, k, padding=padding, bias=bias)
        with torch.no_grad():
            if bias: s.bias.zero_()
            torch.nn.init.dirac_(s.weight[:cin])
class Group(nn.Module):
    def __init__(s, cin, cout):
        super().__init__(); s.c1 = Conv(cin, cout); s.n1 = BN(cout); s.c2 = Conv(cout, cout); s.n2 = BN(cout)
    def forward(s, x): return F.gelu(s.n2(s.c2(F.gelu(s.n1(F.max_pool2d(s.c1(x), 2))))))
class Net(nn.Module):
    def __init__(s):
        super().__init__()
        s.whiten = nn.Conv2d(3, 24, 2, padding=0, bias=True); s.whiten.weight.requires_grad = False
        with torch.no_grad(): s.whiten.bias.zero_()
        s.groups = nn.Sequential(Group(24, widths[0]), Group(widths[0], widths[1]), Group(widths[1], widths[2]))
        s.head = nn.Linear(widths[2], 10, bias=False)
    def forward(s, x): return s.head(F.max_pool2d(s.groups(F.gelu(s.whiten(x))), 3).flatten(1)) / 9
model = Net().to(memory_format=torch.channels_last)

# Whitening from the first 5,000 training images' 2x2 patches (second moments, not centred).
with torch.no_grad():
    patches = Xtr[:5000].unfold(2, 2, 1).unfold(3, 2, 1).permute(0, 2, 3, 1, 4, 5).reshape(-1, 12).double()
    values, vectors = torch.linalg.eigh(patches.T @ patches / len(patches))
    values, vectors = values.flip(0), vectors.T.flip(0)
    kernel = (vectors / torch.sqrt(values + 5e-4).view(-1, 1)).view(12, 3, 2, 2).float()
    model.whiten.weight.copy_(torch.cat((kernel, -kernel)))

bs = a.batch_size; steps = math.ceil(len(Xtr) / bs); total = steps * a.epochs; warm = int(total * 0.23)
def factor(t): return 0.2 + 0.8 * t / warm if t < warm else 1 + (0.07 - 1) * (t - warm) / (total - warm)
norm_biases = [p for n, p in model.named_parameters() if '.n' in n and p.requires_grad]
others = [p for n, p in model.named_parameters() if '.n' not in n and p.requires_grad and not n.startswith('whiten')]
peak, wd = 1.5 * bs / 1024, 0.0013307
opt = torch.optim.SGD([dict(params=others, lr=peak, weight_decay=wd), dict(params=norm_biases, lr=peak * 64, weight_decay=wd / 64),
                       dict(params=[model.whiten.bias], lr=peak, weight_decay=wd)], momentum=0.85, nesterov=True)
base = [g['lr'] for g in opt.param_groups]
average = {k: v.clone() for k, v in model.state_dict().items()}
def lookahead(decay):
    with torch.no_grad():
        for k, v in model.state_dict().items():
            if v.dtype == torch.float32: average[k].lerp_(v, 1 - decay); v.copy_(average[k])

first_flip = torch.from_numpy(np.random.default_rng(a.seed + 1).random(len(Xtr)) < 0.5)
def augment(x, rows, epoch):
    flip = first_flip[rows] ^ (epoch % 2 == 1)
    x = torch.where(flip.view(-1, 1, 1, 1), x.flip(3), x)
    pad = F.pad(x, (2, 2, 2, 2), mode='reflect'); out = torch.empty_like(x)
    dy, dx = rng.integers(0, 5, len(x)), rng.integers(0, 5, len(x))
    for sy in range(5):
        for sx in range(5):
            m = torch.from_numpy((dy == sy) & (dx == sx))
            if m.any(): out[m] = pad[m, :, sy:sy + 32, sx:sx + 32]
    return out

def infer(x, tta):
    views = lambda v: (model(v) + model(v.flip(3))) / 2
    if not tta: return model(x)
    padded = F.pad(x, (1, 1, 1, 1), mode='reflect')
    return 0.5 * views(x) + 0.25 * (views(padded[:, :, 0:32, 0:32]) + views(padded[:, :, 2:34, 2:34]))
def accuracy(x, y, tta=False):
    model.eval()
    with torch.no_grad(): right = sum((infer(x[i:i + 1000].contiguous(memory_format=torch.channels_last), tta).argmax(1) == y[i:i + 1000]).sum().item() for i in range(0, len(x), 1000))
    model.train(); return right / len(x)

print(json.dumps({'parameters': sum(p.numel() for p in model.parameters()), 'threads': a.threads, 'widths': widths, 'torch': torch.__version__}))
loss_fn = nn.CrossEntropyLoss(label_smoothing=0.2); t = 0; started = time.time()
for epoch in range(a.epochs):
    model.whiten.bias.requires_grad = epoch < 3
    order = torch.from_numpy(rng.permutation(len(Xtr))); t0 = time.time(); seen = 0
    for s in range(steps):
        rows = order[s * bs:(s + 1) * bs]
        x = augment(Xtr[rows], rows, epoch).contiguous(memory_format=torch.channels_last)
        for g, b in zip(opt.param_groups, base): g['lr'] = b * factor(t)
        loss = loss_fn(model(x), Ytr[rows]); opt.zero_grad(set_to_none=True); loss.backward(); opt.step(); t += 1; seen += len(rows)
        if t % 5 == 0: lookahead(0.95 ** 5 * (t / total) ** 3)
        if a.max_steps and t >= a.max_steps: break
    seconds = time.time() - t0
    if t >= total: lookahead(1.0)
    print(json.dumps({'epoch': epoch + 1, 'seconds': round(seconds, 1), 'samples_per_s': round(seen / seconds, 1), 'loss': round(loss.item(), 4), 'val_acc': accuracy(Xva, Yva)}), flush=True)
    if a.max_steps and t >= a.max_steps: break
print(json.dumps({'test_acc': accuracy(Xte, Yte), 'test_acc_tta': accuracy(Xte, Yte, tta=True), 'total_seconds': round(time.time() - started, 1)}))
