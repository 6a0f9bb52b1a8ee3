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


if __name__ == "__main__":
    if sys.argv[1] == "step":
        step(*sys.argv[2:5])
    elif sys.argv[1] == "make-fixture":
        make_fixture(sys.argv[2])
    else:
        sys.exit(__doc__)
