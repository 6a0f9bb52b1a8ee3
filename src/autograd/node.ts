/**
 * Reverse-mode autograd: each differentiable op records a GradNode on its
 * output with the inputs it depends on and a backward function mapping the
 * output's gradient to the inputs' gradients. Kernels know nothing of this.
 */
import type { Tensor } from '../tensor.js';

export interface GradNode {
  readonly name: string;
  readonly inputs: readonly Tensor[];
  /** Gradients w.r.t. inputs (null where an input needs none), given d(out). */
  backward(gradOut: Tensor): (Tensor | null)[];
}

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs fn without recording the tape (evaluation, optimiser updates). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/**
 * Attaches a backward function to out when grad mode is on and some input
 * requires grad. Ops call this right after computing their forward.
 */
export function record(out: Tensor, name: string, inputs: readonly Tensor[], backward: (g: Tensor) => (Tensor | null)[]): Tensor {
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.node = { name, inputs, backward };
  }
  return out;
}
