"""torchvision's resnet18 (10 classes) training steps at 224 px on random data in memory: SGD with
momentum, mean cross-entropy, loss.item() per step. Prints one JSON line: seconds a step, peak RSS.
PRECISION bfloat16 runs the forward pass under CPU autocast (torch.autocast("cpu", torch.bfloat16)).
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 torch_resnet18_step.py THREADS BATCH STEPS [PRECISION]
"""
import json
import resource
import sys
import time

import torch
import torch.nn.functional as F
import torchvision

threads, batch, steps = (int(v) for v in sys.argv[1:4])
bfloat16 = len(sys.argv) > 4 and sys.argv[4] == "bfloat16"
torch.set_num_threads(threads)
torch.manual_seed(0)
net = torchvision.models.resnet18(num_classes=10)
optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
x = torch.rand(batch, 3, 224, 224)
y = torch.randint(0, 10, (batch,))
net.train()


def step():
    optimizer.zero_grad()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bfloat16):
        loss = F.cross_entropy(net(x), y)
    loss.backward()
    optimizer.step()
    return loss.item()


for _ in range(2):
    step()
started = time.perf_counter()
for _ in range(steps):
    step()
seconds = (time.perf_counter() - started) / steps
print(json.dumps({"stepSeconds": seconds, "samplesPerSecond": batch / seconds,
                  "peakRssMb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
