/**
 * Tensor lifetimes. WebAssembly linear memory is not garbage-collected, so
 * every tensor belongs to exactly one owner that frees it deterministically:
 *
 * - persistent: parameters, buffers, optimiser state, gradients of leaves,
 *   tensors created with `requiresGrad: true`, and anything `keep()`-ed. They
 *   live until `dispose()` (or, as a backstop, until the JS object is
 *   garbage-collected).
 * - the step arena: every other tensor. The arena is emptied at a step
 *   boundary: automatically when a model's top-level `forward()` begins (so a
 *   plain PyTorch-style loop stays flat without calling anything), or by hand
 *   with `endStep()`. Tensors passed to that forward survive the boundary.
 * - a scope: inside `tidy(fn)`, tensors created by fn are freed when fn
 *   returns, except the tensors it returns, which move to the enclosing owner.
 *
 * Using a released tensor throws an error naming why it was released.
 */
import type { Tensor } from './tensor.js';

export class Scope {
  readonly tensors = new Set<Tensor>();
  constructor(
    readonly parent: Scope | null,
    readonly label: string,
  ) {}
}

const arena = new Scope(null, 'step');
let current: Scope = arena;
let stepCount = 0;

export function currentScope(): Scope {
  return current;
}

/** True when no `tidy` scope is open: step boundaries apply. */
export function inArena(): boolean {
  return current === arena;
}

export function stepNumber(): number {
  return stepCount;
}

/**
 * Ends the current step: frees every tensor of the step arena except those
 * listed. Called by Module.forward at the top level; call it yourself in loops
 * that run ops without a model.
 */
export function endStep(survivors: Iterable<Tensor> = []): void {
  const keep = new Set<Tensor>();
  for (const t of survivors) keep.add(t);
  stepCount++;
  const reason = `its step ended (step boundary #${stepCount}: a model's top-level forward() or endStep())`;
  for (const t of arena.tensors) {
    if (!keep.has(t)) t.release(reason);
  }
  arena.tensors.clear();
  for (const t of keep) {
    if (!t.isPersistent && !t.isReleased) {
      arena.tensors.add(t);
      t.scope = arena;
    }
  }
}

/**
 * Runs fn in a fresh scope: tensors it creates are freed when it returns,
 * except those in its result (a tensor, or an array / object of tensors).
 */
export function tidy<T>(fn: () => T, label = 'tidy'): T {
  const scope = new Scope(current, label);
  current = scope;
  let result: T;
  try {
    result = fn();
  } finally {
    current = scope.parent!;
  }
  const survivors = new Set<Tensor>();
  collectTensors(result, survivors);
  for (const t of scope.tensors) {
    if (survivors.has(t)) {
      t.scope = current;
      current.tensors.add(t);
    } else {
      t.release(`it was created inside ${label}() and not returned`);
    }
  }
  scope.tensors.clear();
  return result;
}

function collectTensors(value: unknown, out: Set<Tensor>, depth = 0): void {
  if (value === null || typeof value !== 'object' || depth > 4) return;
  if ((value as { isTensor?: boolean }).isTensor === true) {
    out.add(value as Tensor);
    return;
  }
  const items = Array.isArray(value) ? value : value instanceof Map ? [...value.values()] : Object.values(value);
  for (const v of items) collectTensors(v, out, depth + 1);
}
