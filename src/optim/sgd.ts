/**
 * SGD with momentum, weight decay and optional Nesterov, as torch.optim.SGD
 * (dampening 0): one fused kernel per parameter updates it in place.
 */
import { backend } from '../backend/current.js';
import { noGrad } from '../autograd/node.js';
import { type Tensor, zeros } from '../tensor.js';

export interface SgdOptions {
  lr: number;
  momentum?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

export class SGD {
  lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  /** Momentum buffers, one per parameter (persistent), created at the first step. */
  readonly momentumBuffers: (Tensor | null)[];

  constructor(
    readonly params: Tensor[],
    opts: SgdOptions,
  ) {
    if (!(opts.lr >= 0)) throw new Error(`wasmtail: sgd(): lr must be a non-negative number, got ${opts.lr}`);
    this.lr = opts.lr;
    this.momentum = opts.momentum ?? 0;
    this.weightDecay = opts.weightDecay ?? 0;
    this.nesterov = opts.nesterov ?? false;
    if (this.nesterov && this.momentum <= 0) throw new Error('wasmtail: sgd(): Nesterov momentum requires momentum > 0');
    this.momentumBuffers = params.map(() => null);
  }

  /** Sets every gradient to zero in place (no allocation). */
  zeroGrad(): void {
    for (const p of this.params) if (p.grad) backend().fill(p.grad.storage, 0, p.size);
  }

  step(): void {
    noGrad(() => {
      this.params.forEach((p, i) => {
        if (!p.grad) return;
        let buf = this.momentumBuffers[i];
        if (this.momentum > 0 && !buf) buf = this.momentumBuffers[i] = zeros(p.shape, { persistent: true });
        backend().sgdStep(
          p.storage,
          p.grad.storage,
          buf ? buf.storage : null,
          p.size,
          this.lr,
          this.momentum,
          this.weightDecay,
          this.nesterov,
        );
      });
    });
  }
}

export function sgd(params: Tensor[], opts: SgdOptions): SGD {
  return new SGD(params, opts);
}
