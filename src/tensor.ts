/**
 * Tensor: a shape, a handle to backend storage, and (when it was produced by
 * a differentiable op) the autograd node that made it. Dense, row-major,
 * float32, NCHW for images.
 */
import type { Backend, Storage } from './backend/backend.js';
import { backend } from './backend/current.js';
import { currentScope, type Scope } from './memory.js';
import type { GradNode } from './autograd/node.js';
import { backward } from './autograd/backward.js';

/** Storage shared by a tensor and its views (reshape), freed with the last of them. */
class SharedStorage {
  refs = 1;
  constructor(
    readonly storage: Storage,
    private readonly owner: Backend,
  ) {}
  retain(): this {
    this.refs++;
    return this;
  }
  drop(): void {
    if (--this.refs === 0) this.owner.free(this.storage);
  }
}

/**
 * The garbage-collection backstop for persistent tensors. workerd has no
 * FinalizationRegistry: there persistent tensors are freed by dispose() only.
 */
const collected: Pick<FinalizationRegistry<SharedStorage>, 'register' | 'unregister'> = typeof FinalizationRegistry === 'function'
  ? new FinalizationRegistry<SharedStorage>((buf) => buf.drop())
  : { register: () => undefined, unregister: () => false };

let nextId = 1;

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function checkShape(shape: readonly number[], what = 'shape'): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`wasmtail: ${what} must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
}

export class Tensor {
  readonly isTensor = true;
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly size: number;
  requiresGrad: boolean;
  /** Gradient accumulated by backward() (leaves only, as in PyTorch). */
  grad: Tensor | null = null;
  /** The op that produced this tensor, for backward(); null for leaves. */
  node: GradNode | null = null;
  /** Owner: a scope (step arena or tidy) or null for persistent tensors. */
  scope: Scope | null = null;
  /** True when the storage is shared with the tensor this one views. */
  readonly isView: boolean;
  private buf: SharedStorage | null;
  private releasedBecause: string | null = null;

  /** Use `wt.tensor()` or an op; this wraps storage the caller already owns. */
  constructor(storage: Storage, shape: readonly number[], opts: { requiresGrad?: boolean; persistent?: boolean; viewOf?: Tensor } = {}) {
    this.shape = Object.freeze([...shape]);
    this.size = sizeOf(shape);
    this.requiresGrad = opts.requiresGrad ?? false;
    this.isView = opts.viewOf !== undefined;
    this.buf = opts.viewOf ? opts.viewOf.shared().retain() : new SharedStorage(storage, backend());
    if (opts.persistent) {
      collected.register(this, this.buf, this);
    } else {
      this.scope = currentScope();
      this.scope.tensors.add(this);
    }
  }

  private shared(): SharedStorage {
    if (!this.buf) throw this.releasedError();
    return this.buf;
  }

  /** The backend storage; throws if the tensor was released. */
  get storage(): Storage {
    return this.shared().storage;
  }

  /** True while another tensor (a view, or the tensor this one views) uses the same storage. */
  get storageShared(): boolean {
    return this.shared().refs > 1;
  }

  get isPersistent(): boolean {
    return this.scope === null && !this.isReleased;
  }

  get isReleased(): boolean {
    return this.buf === null;
  }

  get ndim(): number {
    return this.shape.length;
  }

  private releasedError(): Error {
    return new Error(
      `wasmtail: tensor #${this.id} [${this.shape.join(', ')}] was released because ${this.releasedBecause}; ` +
        'call t.keep() on a tensor you need across steps, or recompute it',
    );
  }

  /** Frees the storage now (internal: owners call this). */
  release(reason: string): void {
    if (!this.buf) return;
    if (this.scope === null) collected.unregister(this);
    this.buf.drop();
    this.buf = null;
    this.releasedBecause = reason;
    this.node = null;
  }

  /** Frees this tensor (and its gradient) now. Using it afterwards throws. */
  dispose(): void {
    this.scope?.tensors.delete(this);
    this.grad?.dispose();
    this.grad = null;
    this.release('dispose() was called on it');
  }

  /** Moves this tensor out of its step arena or scope: it lives until dispose(). */
  keep(): this {
    if (this.scope) {
      this.scope.tensors.delete(this);
      this.scope = null;
      collected.register(this, this.shared(), this);
    }
    return this;
  }

  /** Reverse-mode differentiation from this tensor (a scalar unless gradient is given). */
  backward(gradient?: Tensor): void {
    backward(this, gradient);
  }

  /** A copy of the values. Synchronous on the WASM backend; await it to be backend-agnostic. */
  toFloat32Array(): Float32Array {
    const asyncRead = () => new Error(`wasmtail: the ${backend().name} backend reads asynchronously: use \`await t.data()\``);
    if (backend().capabilities.has('asyncRead')) throw asyncRead();
    const out = backend().read(this.storage);
    if (out instanceof Promise) {
      out.catch(() => undefined);
      throw asyncRead();
    }
    return out;
  }

  /** A copy of the values, on any backend. */
  async data(): Promise<Float32Array> {
    return await backend().read(this.storage);
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new Error(`wasmtail: item() needs a one-element tensor, got shape [${this.shape.join(', ')}]`);
    return this.toFloat32Array()[0];
  }

  /** Nested arrays, for printing and tests. */
  toArray(): unknown {
    const flat = Array.from(this.toFloat32Array());
    const build = (dim: number, offset: number): unknown => {
      if (dim === this.shape.length) return flat[offset];
      const stride = sizeOf(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim] }, (_, i) => build(dim + 1, offset + i * stride));
    };
    return build(0, 0);
  }

  toString(): string {
    return `Tensor(shape=[${this.shape.join(', ')}]${this.requiresGrad ? ', requiresGrad' : ''})`;
  }
}

/** A new tensor of the given shape with uninitialised storage, owned by the current scope. */
export function empty(shape: readonly number[], opts: { persistent?: boolean; requiresGrad?: boolean } = {}): Tensor {
  return new Tensor(backend().alloc(sizeOf(shape)), shape, opts);
}

export function zeros(shape: readonly number[], opts: { persistent?: boolean; requiresGrad?: boolean } = {}): Tensor {
  checkShape(shape);
  const t = empty(shape, opts);
  backend().fill(t.storage, 0, t.size);
  return t;
}

export function full(shape: readonly number[], value: number, opts: { persistent?: boolean; requiresGrad?: boolean } = {}): Tensor {
  checkShape(shape);
  const t = empty(shape, opts);
  backend().fill(t.storage, value, t.size);
  return t;
}

/**
 * A tensor from values. Tensors with requiresGrad are leaves you optimise,
 * so they are persistent (like nn.Parameter); others belong to the step.
 */
export function tensor(data: Float32Array | ArrayLike<number>, shape?: readonly number[], opts: { requiresGrad?: boolean } = {}): Tensor {
  if (!(data instanceof Float32Array)) {
    if (data === null || typeof data !== 'object' || typeof (data as ArrayLike<number>).length !== 'number') {
      throw new TypeError(
        `wasmtail: tensor(): data must be a Float32Array or an array of numbers, got ${data === null ? 'null' : typeof data}`,
      );
    }
    const list = data as ArrayLike<unknown>;
    for (let i = 0; i < list.length; i++) {
      if (typeof list[i] !== 'number') {
        throw new TypeError(`wasmtail: tensor(): element ${i} is ${typeof list[i]} (${String(list[i]).slice(0, 20)}), not a number`);
      }
    }
  }
  const values = data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
  const s = shape ?? [values.length];
  checkShape(s);
  if (sizeOf(s) !== values.length) {
    throw new Error(`wasmtail: tensor(): ${values.length} values do not fill shape [${s.join(', ')}] (${sizeOf(s)} elements)`);
  }
  const requiresGrad = opts.requiresGrad ?? false;
  const t = empty(s, { requiresGrad, persistent: requiresGrad });
  if (values.length > 0) backend().write(t.storage, values);
  return t;
}

/** A view with another shape over the same storage (no copy). */
export function viewAs(x: Tensor, shape: readonly number[]): Tensor {
  return new Tensor(x.storage, shape, { viewOf: x });
}
