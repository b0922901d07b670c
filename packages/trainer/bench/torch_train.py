"""PyTorch yardstick for `pnpm bench:train` (never a dependency of Squash).

Trains one of Squash's models with PyTorch on the same data, batch and optimizer, and prints one
JSON line: training and inference samples/s.

  python3 torch_train.py --model lenet-5 --x x.f32 --y y.i32 --count N --seconds 12 --warmup 5
      --batch 128 --infer-x tx.f32 --infer-count M --infer-batch 1000 --threads 2

The number of measured steps is chosen from 10 timed steps after the warm-up so the pass lasts
about --seconds (at least 20 steps); batches cycle through the N samples given.

x.f32: float32 images (N×784, already scaled to [0, 1]); y.i32: int32 labels. The Node bench
writes both from the same MNIST arrays Squash trains on.
"""
import argparse
import json
import time

import numpy as np
import torch
from torch import nn


def build(name):
    if name == 'article-mlp':
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    if name == 'lenet-300-100':
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 300), nn.ReLU(), nn.Linear(300, 100), nn.ReLU(),
                             nn.Linear(100, 10))
    if name == 'lenet-5':
        # Caffe's LeNet-5, as Squash builds it: no activation after the convolutions.
        return nn.Sequential(nn.Conv2d(1, 20, 5), nn.MaxPool2d(2), nn.Conv2d(20, 50, 5), nn.MaxPool2d(2),
                             nn.Flatten(), nn.Linear(800, 500), nn.ReLU(), nn.Linear(500, 10))
    if name == 'residual-cnn':
        return ResidualCnn()
    raise SystemExit(f'unknown model {name}')


def bn(c):
    # tfjs-layers' defaults as the model file has them: ε 1e-3, moving averages kept at 0.99.
    return nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)


class ResidualCnn(nn.Module):
    """experiments/models/residual-cnn built the same way: stem, one residual block, depthwise,
    pointwise and separable convolutions, global average pooling, dropout, dense."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, stride=2, padding=1, bias=False), bn(16), nn.ReLU6())
        self.a = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1, bias=False), bn(16), nn.ReLU())
        self.b = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1, bias=False), bn(16))
        self.tail = nn.Sequential(
            nn.MaxPool2d(2),
            nn.Conv2d(16, 16, 3, padding=1, groups=16, bias=False), bn(16), nn.ReLU(),
            nn.Conv2d(16, 48, 1, bias=False), bn(48), nn.ReLU(),
            nn.Conv2d(48, 48, 3, padding=1, groups=48, bias=False), nn.Conv2d(48, 64, 1), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.25), nn.Linear(64, 10))

    def forward(self, x):
        s = self.stem(x)
        return self.tail(torch.relu(self.b(self.a(s)) + s))


def main():
    p = argparse.ArgumentParser()
    for k in ('model', 'x', 'y', 'infer_x'):
        p.add_argument('--' + k.replace('_', '-'), required=True)
    for k, d in (('count', 0), ('steps', 0), ('warmup', 5), ('batch', 128), ('infer_count', 0),
                 ('infer_batch', 1000), ('threads', 2)):
        p.add_argument('--' + k.replace('_', '-'), type=int, default=d)
    p.add_argument('--seconds', type=float, default=12)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    shape = (-1, 1, 28, 28) if a.model in ('lenet-5', 'residual-cnn') else (-1, 784)
    x = torch.from_numpy(np.fromfile(a.x, dtype=np.float32).reshape(a.count, 784)).reshape(shape)
    y = torch.from_numpy(np.fromfile(a.y, dtype=np.int32).astype(np.int64))
    tx = torch.from_numpy(np.fromfile(a.infer_x, dtype=np.float32).reshape(a.infer_count, 784)).reshape(shape)
    model = build(a.model)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def step(i):
        # Batches are gathered per step, as Squash's loop builds each batch from a shuffled order.
        start = (i * a.batch) % (a.count - a.batch + 1)
        xb, yb = x[start:start + a.batch].contiguous(), y[start:start + a.batch]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        return loss

    model.train()
    for i in range(a.warmup):
        step(i)
    t0 = time.perf_counter()  # a short timed pass after the warm-up sizes the measured one
    for i in range(10):
        step(i)
    per_step = (time.perf_counter() - t0) / 10
    steps = a.steps or max(20, round(a.seconds / per_step))
    t0 = time.perf_counter()
    for i in range(steps):
        loss = step(i)
    loss.item()
    train_s = time.perf_counter() - t0

    model.eval()
    with torch.no_grad():
        model(tx[:a.infer_batch])
        t0 = time.perf_counter()
        correct = 0
        for s in range(0, a.infer_count, a.infer_batch):
            correct += int((model(tx[s:s + a.infer_batch]).argmax(1) >= 0).sum())
        infer_s = time.perf_counter() - t0
    try:  # which BLAS the process loaded (Debian's torch uses whatever libblas.so.3 points to)
        with open('/proc/self/maps') as f:
            blas = sorted({l.split('/')[-2] + '/' + l.split('/')[-1].strip() for l in f if 'blas' in l.lower() and '/' in l})
    except OSError:
        blas = []
    print(json.dumps({
        'torch': torch.__version__, 'blas': ', '.join(blas), 'threads': torch.get_num_threads(),
        'trainSamplesPerSecond': steps * a.batch / train_s, 'steps': steps, 'trainSeconds': train_s,
        'inferSamplesPerSecond': a.infer_count / infer_s, 'inferSeconds': infer_s,
    }))


if __name__ == '__main__':
    main()
