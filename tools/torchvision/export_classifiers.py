"""Torchvision 0.14's classifiers exported with torch.onnx.export, for the importer's checks.

Writes each architecture as `<name>.onnx` (batch axis dynamic, batch norms kept: exported with
TrainingMode.PRESERVE from eval mode, as a user who wants to fine-tune should), `images.bin` (the first
32 CIFAR-10 test images, uint8 NHWC) with `labels.bin`, and for resnet18 and mobilenet_v2
`<name>.gradients.json` + `.bin`: PyTorch's loss and gradients of one training step (batch statistics,
mean cross-entropy) on the first 8 of them. `@rxvision/onnx`'s test `torchvision.test.ts` reads the folder.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 tools/torchvision/export_classifiers.py \\
        CIFAR_TARBALL OUT_DIR [--full]

Without --full the networks are narrow and shallow (the committed fixtures, about 1 MB in all, at
32 px); with --full they are torchvision's own at 224 px (the images repeated 7x7), without gradients:
at that size no seed keeps every ReLU input clear of its kink. `check_full_size.sh` runs both halves.
"""

import argparse
import json
import os
import tarfile

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from torchvision.models import convnext, efficientnet, mobilenetv3, resnet

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
IMAGES = 32
# The gradient step's batch: with fewer activations, a seed whose every ReLU input keeps 1e-5 clear
# of a kink exists (32 images put a dozen of MobileNetV2's within 1e-5).
GRADIENT_BATCH = 8


class NarrowResNet(resnet.ResNet):
    """torchvision's ResNet with its four widths chosen: the same modules, names and graph."""

    def __init__(self, block, layers, widths, num_classes):
        torch.nn.Module.__init__(self)
        self._norm_layer = torch.nn.BatchNorm2d
        self.inplanes, self.dilation, self.groups, self.base_width = widths[0], 1, 1, 64
        self.conv1 = torch.nn.Conv2d(3, widths[0], kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(widths[0])
        self.relu = torch.nn.ReLU(inplace=True)
        self.maxpool = torch.nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, widths[0], layers[0])
        self.layer2 = self._make_layer(block, widths[1], layers[1], stride=2)
        self.layer3 = self._make_layer(block, widths[2], layers[2], stride=2)
        self.layer4 = self._make_layer(block, widths[3], layers[3], stride=2)
        self.avgpool = torch.nn.AdaptiveAvgPool2d((1, 1))
        self.fc = torch.nn.Linear(widths[3] * block.expansion, num_classes)


def architectures(full):
    """Each name with its network: torchvision's own (full) or narrowed (fixtures), 10 classes."""
    if full:
        return {
            "resnet18": torchvision.models.resnet18(num_classes=10),
            "resnet50": torchvision.models.resnet50(num_classes=10),
            "mobilenet_v2": torchvision.models.mobilenet_v2(num_classes=10, dropout=0.0),
            "mobilenet_v3_small": torchvision.models.mobilenet_v3_small(num_classes=10, dropout=0.0),
            "efficientnet_b0": torchvision.models.efficientnet_b0(num_classes=10),
            "convnext_tiny": torchvision.models.convnext_tiny(num_classes=10),
        }
    v3, v3_last = mobilenetv3._mobilenet_v3_conf("mobilenet_v3_small", width_mult=0.25)
    b0, _ = efficientnet._efficientnet_conf("efficientnet_b0", width_mult=0.25, depth_mult=0.5)
    block = convnext.CNBlockConfig
    v2 = torchvision.models.mobilenet_v2(num_classes=10, width_mult=0.25, dropout=0.0)
    # The last 1x1 convolution keeps 1280 channels at any width; 128 keep the fixture small.
    v2.features[-1] = torchvision.ops.Conv2dNormActivation(80, 128, kernel_size=1, activation_layer=torch.nn.ReLU6)
    v2.classifier[-1] = torch.nn.Linear(128, 10)
    return {
        "resnet18": NarrowResNet(resnet.BasicBlock, [2, 2, 2, 2], [4, 8, 16, 32], 10),
        "resnet50": NarrowResNet(resnet.Bottleneck, [3, 4, 6, 3], [4, 8, 16, 32], 10),
        "mobilenet_v2": v2,
        "mobilenet_v3_small": mobilenetv3.MobileNetV3(v3, v3_last, num_classes=10, dropout=0.0),
        "efficientnet_b0": efficientnet.EfficientNet(b0, dropout=0.0, last_channel=None, num_classes=10),
        "convnext_tiny": convnext.ConvNeXt([block(8, 16, 1), block(16, 32, 1), block(32, 64, 2), block(64, None, 1)], num_classes=10),
    }


def randomise(net, generator):
    """Statistics and normalisation parameters drawn (torchvision starts them at the identity, and
    ConvNeXt's layer scale at 1e-6), so no operator is a near-identity; convolutions and linear layers
    keep torchvision's own initialisation, a state a network trains from."""
    with torch.no_grad():
        for name, tensor in list(net.named_parameters()) + list(net.named_buffers()):
            if not tensor.is_floating_point() or tensor.dim() > 1 and not name.endswith("layer_scale"):
                continue
            draw = torch.rand(tensor.shape, generator=generator)
            if name.endswith("running_var"):
                tensor.copy_(draw + 0.5)
            elif name.endswith("layer_scale"):
                tensor.copy_(draw * 0.5 + 0.5)
            elif name.endswith("weight"):
                tensor.copy_(draw * 0.4 + 0.8)
            else:
                tensor.copy_(draw * 0.2 - 0.1)


def cifar_test_images(tarball):
    """The first IMAGES images of CIFAR-10's test batch, NHWC uint8, and their labels."""
    with tarfile.open(tarball) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("test_batch.bin"))
        raw = np.frombuffer(tar.extractfile(member).read(IMAGES * 3073), dtype=np.uint8).reshape(IMAGES, 3073)
    return raw[:, 1:].reshape(IMAGES, 3, 32, 32).transpose(0, 2, 3, 1).copy(), raw[:, 0].astype(np.int32)


def model_input(images, size):
    """ImageNet's normalisation, then each pixel repeated to `size` (exact on both sides, unlike a resize)."""
    x = (images.astype(np.float32) / np.float32(255) - MEAN) / STD
    repeat = size // images.shape[1]
    x = x.repeat(repeat, axis=1).repeat(repeat, axis=2)
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


def export(net, path, size):
    net.eval()
    torch.onnx.export(
        net,
        torch.zeros(1, 3, size, size),
        path,
        input_names=["images"],
        output_names=["logits"],
        dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}},
        training=torch.onnx.TrainingMode.PRESERVE,
        do_constant_folding=False,
        opset_version=13,
    )


def nearest_kink(net, x):
    """How close any input of a ReLU or ReLU6 comes to where its gradient jumps (0, and 6), in a
    training-mode forward pass: there float32 rounding decides the gradient, in PyTorch as anywhere."""
    distances = []

    def record(module, inputs):
        t = inputs[0].detach()
        distances.append(t.abs().min().item())
        if isinstance(module, torch.nn.ReLU6):
            distances.append((t - 6).abs().min().item())

    hooks = [m.register_forward_pre_hook(record) for m in net.modules() if isinstance(m, (torch.nn.ReLU, torch.nn.ReLU6))]
    net.train()
    with torch.no_grad():
        net(x)
    for hook in hooks:
        hook.remove()
    return min(distances)


def write_gradients(net, x, labels, stem, seed, kink):
    """One training step's loss and gradients (batch statistics), float32 in one file, indexed by name."""
    net.train()
    net.zero_grad()
    loss = F.cross_entropy(net(x), torch.from_numpy(labels).long())
    loss.backward()
    index, chunks, offset = [], [], 0
    for name, parameter in net.named_parameters():
        values = parameter.grad.detach().numpy().astype(np.float32).ravel()
        index.append({"name": name, "dims": list(parameter.shape), "offset": offset})
        chunks.append(values)
        offset += values.size
    np.concatenate(chunks).tofile(stem + ".gradients.bin")
    with open(stem + ".gradients.json", "w") as f:
        json.dump({"loss": loss.item(), "seed": seed, "nearestKink": kink, "gradients": index}, f, indent=1)
        f.write("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tarball")
    parser.add_argument("out")
    parser.add_argument("--full", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)  # the convolutions' initialisation
    os.makedirs(args.out, exist_ok=True)
    size = 224 if args.full else 32
    images, labels = cifar_test_images(args.tarball)
    images.tofile(os.path.join(args.out, "images.bin"))
    labels.astype(np.uint8).tofile(os.path.join(args.out, "labels.bin"))
    x = model_input(images, size)
    for name, net in architectures(args.full).items():
        stem = os.path.join(args.out, name)
        # A gradient is compared only where it is defined: the first seed whose activations all keep
        # clear of a ReLU's kink (one value within float32 rounding of it flips a whole gradient term).
        for seed in range(100):
            randomise(net, torch.Generator().manual_seed(seed))
            kink = nearest_kink(net, x[:GRADIENT_BATCH]) if name in ("resnet18", "mobilenet_v2") and not args.full else None
            if kink is None or kink > 1e-5:
                break
        export(net, stem + ".onnx", size)
        if kink is not None:
            write_gradients(net, x[:GRADIENT_BATCH], labels[:GRADIENT_BATCH], stem, seed, kink)
        parameters = sum(p.numel() for p in net.parameters())
        print(f"{name}: {parameters:,} parameters, {os.path.getsize(stem + '.onnx'):,} bytes")


if __name__ == "__main__":
    main()
