#!/usr/bin/env python3
"""A PyTorch twin of wasmtail's CIFAR ResNets, for interop tests.

The architecture is the widely used CIFAR ResNet that the FBL and LDAM-DRW
reference code build on (option-A shortcut: x[:, :, ::2, ::2] zero-padded by
planes // 4 channels on each side; names conv1, bn1, layerK.I.convJ, linear).

  step CKPT BATCH OUT    load CKPT (safetensors, strict), run one training step
                         (train mode, cross-entropy, SGD lr 0.1 momentum 0.9
                         wd 2e-4) on BATCH (a .safetensors holding x and y), and
                         write OUT: the loss, the eval-mode logits and features
                         before the step, the gradients, and the weights after.
  make-fixture DIR       a ResNet-20 (seed 7, random BN statistics) and a batch,
                         saved as DIR/torch-resnet20.safetensors and
                         DIR/torch-resnet20.expected.safetensors (eval logits, features).
  train-fixture DIR      a ResNet-32 trained by PyTorch on the shipped long-tailed
                         Fashion-MNIST (data/fashion-mnist-lt): three epochs, batch 64,
                         SGD momentum 0.9 wd 2e-4, lr 0.1 then 0.01 in the last
                         epoch, no augmentation, seed 0, one thread (~3 minutes). Saves DIR/torch-resnet32-fashion.safetensors
                         (the whole state dict, num_batches_tracked included;
                         metadata {"format": "pt"} only) and
                         DIR/torch-resnet32-fashion.expected.safetensors: the first
                         16 test images (pixels "images" and normalised "x"), their
                         labels, and the eval-mode logits and features.

Run with /usr/bin/python3 (Debian's python3-torch).
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(__file__))
from importlib import import_module

st = import_module("make-safetensors-fixture")


class BasicBlock(nn.Module):
    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.pad = (planes - in_planes) // 2 if stride != 1 or in_planes != planes else None
        self.stride = stride

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.pad is None:
            short = x
        else:
            short = F.pad(x[:, :, :: self.stride, :: self.stride], (0, 0, 0, 0, self.pad, self.pad))
        return F.relu(out + short)


class ResNet(nn.Module):
    def __init__(self, blocks, num_classes=10, in_channels=3):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        in_planes = 16
        for i, planes in enumerate([16, 32, 64]):
            layers = []
            for j in range(blocks):
                layers.append(BasicBlock(in_planes, planes, 2 if j == 0 and i > 0 else 1))
                in_planes = planes
            setattr(self, f"layer{i + 1}", nn.Sequential(*layers))
        self.linear = nn.Linear(64, num_classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        features = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.linear(features), features


def load_tensors(path):
    tensors, _ = st.load(path)
    return {name: t for name, (_, t) in tensors.items()}


def model_from(path):
    sd = load_tensors(path)
    blocks = len({k.split(".")[1] for k in sd if k.startswith("layer1.")})
    model = ResNet(blocks, sd["linear.weight"].shape[0], sd["conv1.weight"].shape[1])
    model.load_state_dict({k: v for k, v in sd.items()}, strict=True)
    return model


def step(ckpt, batch, out):
    torch.set_num_threads(1)
    model = model_from(ckpt)
    b = load_tensors(batch)
    x, y = b["x"], b["y"].long()
    model.eval()
    with torch.no_grad():
        logits_eval, features_eval = model(x)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=2e-4)
    opt.zero_grad()
    logits, _ = model(x)
    loss = F.cross_entropy(logits, y)
    loss.backward()
    result = {"loss": loss.detach().reshape(1), "eval.logits": logits_eval, "eval.features": features_eval}
    for name, p in model.named_parameters():
        result["grad." + name] = p.grad.detach().clone()
    opt.step()
    for name, t in model.state_dict().items():
        if not name.endswith("num_batches_tracked"):
            result["after." + name] = t.detach().clone()
    st.save(out, {k: v.float().contiguous() for k, v in result.items()}, {})


def make_fixture(d):
    torch.manual_seed(7)
    model = ResNet(3)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    model.eval()
    x = torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        logits, features = model(x)
    sd = {k: v for k, v in model.state_dict().items()}
    st.save(os.path.join(d, "torch-resnet20.safetensors"), sd, {"format": "pt"})
    st.save(os.path.join(d, "torch-resnet20.expected.safetensors"), {"x": x, "logits": logits, "features": features}, {})


def read_idx(path):
    import gzip

    raw = gzip.open(path, "rb").read()
    ndims = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndims)]
    return torch.frombuffer(bytearray(raw[4 + 4 * ndims :]), dtype=torch.uint8).reshape(dims)


def normalise(pixels):
    # As wasmtail's normalize(): (p / 255 - mean) / std, Fashion-MNIST's statistics.
    return ((pixels.float() / 255 - 0.286) / 0.353).unsqueeze(1)


def train_fixture(d):
    torch.manual_seed(0)
    torch.set_num_threads(1)
    data = os.path.join(os.path.dirname(__file__), "..", "data", "fashion-mnist-lt")
    images = read_idx(os.path.join(data, "train-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(data, "train-labels-idx1-ubyte.gz")).long()
    model = ResNet(5, 10, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=2e-4)
    generator = torch.Generator().manual_seed(0)
    model.train()
    for epoch in range(3):
        for group in opt.param_groups:
            group["lr"] = 0.01 if epoch == 2 else 0.1
        order = torch.randperm(len(labels), generator=generator)
        for step, begin in enumerate(range(0, len(order), 64)):
            idx = order[begin : begin + 64]
            logits, _ = model(normalise(images[idx]))
            loss = F.cross_entropy(logits, labels[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if step % 50 == 0:
                print(f"epoch {epoch} step {step} loss {loss.item():.4f}", file=sys.stderr, flush=True)
    model.eval()
    test_images = read_idx(os.path.join(data, "t10k-images-idx3-ubyte.gz"))[:16]
    test_labels = read_idx(os.path.join(data, "t10k-labels-idx1-ubyte.gz"))[:16]
    x = normalise(test_images)
    with torch.no_grad():
        logits, features = model(x)
    print("test labels", test_labels.tolist(), "predicted", logits.argmax(1).tolist(), file=sys.stderr)
    sd = dict(model.state_dict())  # num_batches_tracked (I64) included, as torch.save would keep it
    st.save(os.path.join(d, "torch-resnet32-fashion.safetensors"), sd, {"format": "pt"})
    st.save(os.path.join(d, "torch-resnet32-fashion.expected.safetensors"),
            {"images": test_images.unsqueeze(1).float(), "labels": test_labels.float(), "x": x, "logits": logits, "features": features}, {})


if __name__ == "__main__":
    if sys.argv[1] == "step":
        step(*sys.argv[2:5])
    elif sys.argv[1] == "make-fixture":
        make_fixture(sys.argv[2])
    elif sys.argv[1] == "train-fixture":
        train_fixture(sys.argv[2])
    else:
        sys.exit(__doc__)
