// Optimiser step, in place over f32 arrays, f32x4 loops with a scalar tail.

@inline function at(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}

/**
 * torch.optim.SGD with dampening 0:
 *   g = grad + weightDecay * param
 *   buf = momentum * buf + g                       (momentum != 0 only)
 *   step = nesterov ? g + momentum * buf : buf     (g when momentum == 0)
 *   param -= lr * step
 * buf must start at zero: PyTorch's first step sets buf = g, the same thing.
 * With momentum == 0 the buffer is not touched (momentumBuf may be 0).
 */
export function sgdStep(param: usize, grad: usize, momentumBuf: usize, n: i32,
  lr: f32, momentum: f32, weightDecay: f32, nesterov: i32): void {
  const vlr = f32x4.splat(lr);
  const vwd = f32x4.splat(weightDecay);
  const vm = f32x4.splat(momentum);
  const n4 = n & ~3;
  let i = 0;
  if (momentum == 0) {
    for (; i < n4; i += 4) {
      const p = v128.load(at(param, i));
      const g = f32x4.add(v128.load(at(grad, i)), f32x4.mul(vwd, p));
      v128.store(at(param, i), f32x4.sub(p, f32x4.mul(vlr, g)));
    }
    for (; i < n; i++) {
      const p = load<f32>(at(param, i));
      store<f32>(at(param, i), p - lr * (load<f32>(at(grad, i)) + weightDecay * p));
    }
  } else if (nesterov) {
    for (; i < n4; i += 4) {
      const p = v128.load(at(param, i));
      const g = f32x4.add(v128.load(at(grad, i)), f32x4.mul(vwd, p));
      const b = f32x4.add(f32x4.mul(vm, v128.load(at(momentumBuf, i))), g);
      v128.store(at(momentumBuf, i), b);
      v128.store(at(param, i), f32x4.sub(p, f32x4.mul(vlr, f32x4.add(g, f32x4.mul(vm, b)))));
    }
    for (; i < n; i++) {
      const p = load<f32>(at(param, i));
      const g = load<f32>(at(grad, i)) + weightDecay * p;
      const b = momentum * load<f32>(at(momentumBuf, i)) + g;
      store<f32>(at(momentumBuf, i), b);
      store<f32>(at(param, i), p - lr * (g + momentum * b));
    }
  } else {
    for (; i < n4; i += 4) {
      const p = v128.load(at(param, i));
      const g = f32x4.add(v128.load(at(grad, i)), f32x4.mul(vwd, p));
      const b = f32x4.add(f32x4.mul(vm, v128.load(at(momentumBuf, i))), g);
      v128.store(at(momentumBuf, i), b);
      v128.store(at(param, i), f32x4.sub(p, f32x4.mul(vlr, b)));
    }
    for (; i < n; i++) {
      const p = load<f32>(at(param, i));
      const b = momentum * load<f32>(at(momentumBuf, i)) + (load<f32>(at(grad, i)) + weightDecay * p);
      store<f32>(at(momentumBuf, i), b);
      store<f32>(at(param, i), p - lr * b);
    }
  }
}
