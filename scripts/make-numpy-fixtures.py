#!/usr/bin/python3
"""Golden fixtures for wasmtail's data pipeline, computed with numpy itself.

Writes test/data/fixtures/numpy.json, which test/data/*.test.ts compare against
bit for bit: MT19937 with numpy's legacy seeding (np.random.seed(int)), the
legacy np.random.shuffle, random_sample, standard_normal, the long-tail counts
of LDAM-DRW's get_img_num_per_cls and the kept indices of its
gen_imbalanced_data (the code the Feature-Balanced Loss reference uses).

Run from the repository root (Debian: apt-get install python3-numpy):

    /usr/bin/python3 scripts/make-numpy-fixtures.py > test/data/fixtures/numpy.json

The numpy version that produced the committed file is recorded in it. The
legacy RandomState stream is frozen by numpy's compatibility policy (NEP 19),
so any numpy >= 1.17 (and the older rk_* code before it) gives the same file.
Floats are written with Python's repr (shortest round-trip), so JSON.parse gives
the exact double numpy returned. If /usr/share/datasets/fashion-mnist exists (Debian's dataset-fashion-mnist)
the fingerprint of the shipped Fashion-MNIST-LT subset is added as well.
"""
import gzip
import json
import os
import re
import sys

import numpy as np


def fnv1a64(indices):
    """FNV-1a 64 over the int32 little-endian bytes of `indices`."""
    h = 0xCBF29CE484222325
    for b in np.asarray(indices, dtype='<i4').tobytes():
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return format(h, '016x')


# LDAM-DRW (Cao et al. 2019) IMBALANCECIFAR10.get_img_num_per_cls, verbatim logic.
def get_img_num_per_cls(img_max, cls_num, imb_type, imb_factor):
    img_num_per_cls = []
    if imb_type == 'exp':
        for cls_idx in range(cls_num):
            num = img_max * (imb_factor ** (cls_idx / (cls_num - 1.0)))
            img_num_per_cls.append(int(num))
    elif imb_type == 'step':
        for cls_idx in range(cls_num // 2):
            img_num_per_cls.append(int(img_max))
        for cls_idx in range(cls_num // 2):
            img_num_per_cls.append(int(img_max * imb_factor))
    else:
        img_num_per_cls.extend([int(img_max)] * cls_num)
    return img_num_per_cls


# IMBALANCECIFAR10.gen_imbalanced_data, returning the kept indices instead of the data.
def gen_imbalanced_indices(targets, cls_num, imb_type, imb_factor, seed):
    np.random.seed(seed)
    img_num_per_cls = get_img_num_per_cls(len(targets) / cls_num, cls_num, imb_type, imb_factor)
    targets_np = np.array(targets, dtype=np.int64)
    classes = np.unique(targets_np)
    kept = []
    for the_class, the_img_num in zip(classes, img_num_per_cls):
        idx = np.where(targets_np == the_class)[0]
        np.random.shuffle(idx)
        kept.append(idx[:the_img_num])
    return kept, img_num_per_cls


def lt_case(name, targets, cls_num, imb_type, rho, seed, full=False):
    parts, counts = gen_imbalanced_indices(targets, cls_num, imb_type, 1.0 / rho, seed)
    kept = np.concatenate(parts)
    case = {
        'name': name, 'numClasses': cls_num, 'type': imb_type, 'imbalanceRatio': rho, 'seed': seed,
        'counts': counts, 'total': int(sum(counts)), 'hash': fnv1a64(kept),
        'headPerClass': [], 'tailPerClass': [],
    }
    for part in parts:
        case['headPerClass'].append([int(v) for v in part[:5]])
        case['tailPerClass'].append([int(v) for v in part[-5:]])
    if full:
        case['indices'] = [int(v) for v in kept]
    return case


def hashed_labels(n, c):
    # Label i = (i * 2654435761 mod 2^32) mod c: a scattered, reproducible label order.
    return [((i * 2654435761) & 0xFFFFFFFF) % c for i in range(n)]


def main():
    out = {'numpyVersion': np.__version__, 'generator': 'scripts/make-numpy-fixtures.py'}

    # Raw MT19937 words: np.random.seed(s), then randint over the full uint32 range,
    # which numpy returns unmasked (one next_uint32 per value).
    out['rawUint32'] = []
    for s in [0, 1, 123, 4294967295]:
        np.random.seed(s)
        key = np.random.get_state()[1]
        words = np.random.randint(0, 2**32, size=1300, dtype=np.uint32)
        out['rawUint32'].append({
            'seed': s, 'key0to3': [int(k) for k in key[:4]], 'key623': int(key[623]),
            'first': [int(w) for w in words[:10]], 'at624to627': [int(w) for w in words[624:628]],
            'at1290to1299': [int(w) for w in words[1290:1300]],
        })

    out['shuffle'] = []
    for s in [0, 1, 123]:
        for n in [0, 1, 2, 3, 10, 100, 5000]:
            np.random.seed(s)
            a = np.arange(n, dtype=np.int64)
            np.random.shuffle(a)
            case = {'seed': s, 'n': n, 'hash': fnv1a64(a), 'head': [int(v) for v in a[:20]]}
            if n <= 100:
                case['perm'] = [int(v) for v in a]
            # What the next draw is after the shuffle: shows the same number of words was consumed.
            case['nextUint32'] = int(np.random.randint(0, 2**32, dtype=np.uint32))
            out['shuffle'].append(case)

    out['randomSample'] = []
    for s in [0, 1, 123]:
        np.random.seed(s)
        xs = np.random.random_sample(10)
        out['randomSample'].append({'seed': s, 'values': [float(x) for x in xs]})

    out['standardNormal'] = []
    for s in [0, 123]:
        np.random.seed(s)
        xs = np.random.standard_normal(7)
        nxt = np.random.random_sample()
        out['standardNormal'].append({'seed': s, 'values': [float(x) for x in xs],
                                      'nextSample': float(nxt)})

    out['imbalanceCounts'] = []
    for (img_max, c) in [(5000, 10), (500, 100), (6000, 10), (1240.6, 10), (1280, 1000)]:
        for rho in [1, 10, 20, 50, 100, 200, 256]:
            for t in ['exp', 'step']:
                counts = get_img_num_per_cls(img_max, c, t, 1.0 / rho)
                out['imbalanceCounts'].append({'imgMax': img_max, 'numClasses': c, 'type': t,
                                               'imbalanceRatio': rho, 'counts': counts,
                                               'total': int(sum(counts))})

    lt = []
    lt.append(lt_case('cifar10-shaped i%10', [i % 10 for i in range(50000)], 10, 'exp', 100, 0))
    lt.append(lt_case('cifar100-shaped i%100', [i % 100 for i in range(50000)], 100, 'exp', 100, 0))
    lt.append(lt_case('hashed labels c=10 step rho=10 seed 123', hashed_labels(50000, 10), 10, 'step', 10, 123))
    lt.append(lt_case('hashed labels c=10 exp rho=50 seed 1', hashed_labels(50000, 10), 10, 'exp', 50, 1))
    lt.append(lt_case('small hashed c=10 exp rho=10 seed 0', hashed_labels(200, 10), 10, 'exp', 10, 0, full=True))
    out['longTail'] = lt

    fm = '/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz'
    if os.path.exists(fm):
        with gzip.open(fm, 'rb') as f:
            raw = f.read()
        labels = list(np.frombuffer(raw, dtype=np.uint8, offset=8))
        out['fashionMnistLt'] = lt_case('fashion-mnist train exp rho=100 seed 0', labels, 10, 'exp', 100, 0)
        out['fashionMnistLt']['keptLabelsHash'] = fnv1a64(
            np.array(labels)[np.concatenate(gen_imbalanced_indices(labels, 10, 'exp', 0.01, 0)[0])])

    text = json.dumps(out, indent=1)
    # Keep arrays of scalars on one line so the file stays small and diffs stay readable.
    text = re.sub(r'\[[^\[\]{}]*\]', lambda m: re.sub(r'\s+', '', m.group(0)).replace(',', ', '), text)
    sys.stdout.write(text + '\n')


if __name__ == '__main__':
    main()
