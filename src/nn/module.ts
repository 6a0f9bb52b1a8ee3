/**
 * Module: a tree of named parameters, buffers and submodules, with PyTorch's
 * names (`layer1.0.conv2.weight`, `bn1.running_mean`), so a state dict moves
 * between PyTorch and wasmtail unchanged.
 *
 * A model's top-level forward() is a step boundary of the memory policy (see
 * src/memory.ts): it frees the previous step's tensors, except its arguments.
 */
import { endStep, inArena } from '../memory.js';
import { type Tensor, tensor } from '../tensor.js';
import { backend } from '../backend/current.js';
import { shapeStr } from '../ops/util.js';

let forwardDepth = 0;

export abstract class Module {
  training = true;
  private readonly params = new Map<string, Tensor>();
  private readonly buffers = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();

  /** What the module computes; call forward(), which wraps this. */
  protected abstract compute(...args: Tensor[]): unknown;

  // biome-ignore lint/suspicious/noExplicitAny: each model returns its own shape (logits, features, ...) and callers read it directly; unknown would force a cast at every call site
  forward(...args: Tensor[]): any {
    if (forwardDepth === 0 && inArena()) endStep(args);
    forwardDepth++;
    try {
      return this.compute(...args);
    } finally {
      forwardDepth--;
    }
  }

  protected parameter(name: string, values: Float32Array, shape: number[]): Tensor {
    const t = tensor(values, shape, { requiresGrad: true });
    this.params.set(name, t);
    return t;
  }

  protected buffer(name: string, values: Float32Array, shape: number[]): Tensor {
    const t = tensor(values, shape).keep();
    this.buffers.set(name, t);
    return t;
  }

  protected module<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  *namedParameters(prefix = ''): Generator<[string, Tensor]> {
    for (const [n, p] of this.params) yield [prefix + n, p];
    for (const [n, m] of this.children) yield* m.namedParameters(`${prefix}${n}.`);
  }

  *namedBuffers(prefix = ''): Generator<[string, Tensor]> {
    for (const [n, b] of this.buffers) yield [prefix + n, b];
    for (const [n, m] of this.children) yield* m.namedBuffers(`${prefix}${n}.`);
  }

  parameters(): Tensor[] {
    return [...this.namedParameters()].map(([, p]) => p);
  }

  /** Number of trainable values. */
  parameterCount(): number {
    return this.parameters().reduce((s, p) => s + p.size, 0);
  }

  train(mode = true): this {
    this.training = mode;
    for (const m of this.children.values()) m.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Frees the parameters and buffers (and their gradients); the module is unusable afterwards. */
  dispose(): void {
    for (const t of this.stateDict().values()) t.dispose();
  }

  /** Parameters and buffers by PyTorch name (the tensors themselves, not copies). */
  stateDict(): Map<string, Tensor> {
    return new Map([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /**
   * Copies values in by name. Every parameter and buffer must be present with
   * its shape; PyTorch's `num_batches_tracked` counters are accepted and ignored.
   */
  loadStateDict(
    state: Map<string, { shape: readonly number[]; data: Float32Array }> | Record<string, { shape: readonly number[]; data: Float32Array }>,
  ): void {
    const entries = state instanceof Map ? state : new Map(Object.entries(state));
    const own = this.stateDict();
    const missing = [...own.keys()].filter((k) => !entries.has(k));
    const unexpected = [...entries.keys()].filter((k) => !own.has(k) && !k.endsWith('num_batches_tracked'));
    if (missing.length > 0 || unexpected.length > 0) {
      throw new Error(
        `wasmtail: loadStateDict(): the checkpoint does not fit this model` +
          (missing.length
            ? `; missing: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` (+${missing.length - 5} more)` : ''}`
            : '') +
          (unexpected.length
            ? `; unexpected: ${unexpected.slice(0, 5).join(', ')}${unexpected.length > 5 ? ` (+${unexpected.length - 5} more)` : ''}`
            : ''),
      );
    }
    for (const [name, t] of own) {
      const src = entries.get(name)!;
      const shape = [...src.shape];
      if (shape.length !== t.ndim || shape.some((d, i) => d !== t.shape[i])) {
        throw new Error(
          `wasmtail: loadStateDict(): ${name} has shape ${shapeStr(shape)} in the checkpoint but ${shapeStr(t.shape)} in the model`,
        );
      }
      if (src.data.length !== t.size) {
        throw new Error(`wasmtail: loadStateDict(): ${name} holds ${src.data.length} values for shape ${shapeStr(shape)}`);
      }
    }
    for (const [name, t] of own) backend().write(t.storage, entries.get(name)!.data);
  }
}
