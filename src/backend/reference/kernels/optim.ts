// Reference optimiser step (torch.optim.SGD, dampening 0), in place.
import type { FArray } from './types.js';

/**
 * g = grad + weightDecay * param; buf = momentum * buf + g;
 * step = nesterov ? g + momentum * buf : buf; param -= lr * step.
 * With momentum = 0, step = g and buf is not touched (may be null).
 */
export function sgdStepRef(
  param: FArray,
  grad: FArray,
  momentumBuf: FArray | null,
  n: number,
  lr: number,
  momentum: number,
  weightDecay: number,
  nesterov: boolean,
): void {
  if (momentum !== 0 && !momentumBuf) throw new Error('sgdStepRef: momentum needs a buffer');
  for (let i = 0; i < n; i++) {
    const g = grad[i] + weightDecay * param[i];
    let step = g;
    if (momentum !== 0) {
      const b = momentum * momentumBuf![i] + g;
      momentumBuf![i] = b;
      step = nesterov ? g + momentum * b : b;
    }
    param[i] -= lr * step;
  }
}
