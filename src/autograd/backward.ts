/**
 * backward(): walks the tape from a root in reverse topological order,
 * accumulating gradients. Intermediate gradients are freed as soon as they
 * have been consumed (as PyTorch does), so a backward pass holds only the
 * gradients on the frontier; leaves accumulate into their persistent .grad.
 */
import { backend } from '../backend/current.js';
import { type Tensor, full, empty } from '../tensor.js';
import { noGrad } from './node.js';

function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>([root]);
  // Iterative DFS: ResNet-110's tape is deep enough to matter for the JS stack.
  const stack: [Tensor, number][] = [[root, 0]];
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const inputs = t.node?.inputs ?? [];
    if (i < inputs.length) {
      top[1]++;
      const next = inputs[i];
      if (next.requiresGrad && !seen.has(next)) {
        seen.add(next);
        stack.push([next, 0]);
      }
    } else {
      order.push(t);
      stack.pop();
    }
  }
  return order.reverse();
}

export function backward(root: Tensor, gradient?: Tensor): void {
  if (!root.requiresGrad) {
    throw new Error(
      'wasmtail: backward() on a tensor that does not require grad (no input had requiresGrad, or it was computed under noGrad)',
    );
  }
  if (!gradient && root.size !== 1) {
    throw new Error(`wasmtail: backward() without a gradient needs a scalar, got shape [${root.shape.join(', ')}]`);
  }
  if (gradient && gradient.size !== root.size) {
    throw new Error(`wasmtail: backward() gradient shape [${gradient.shape.join(', ')}] does not match [${root.shape.join(', ')}]`);
  }
  const b = backend();
  noGrad(() => {
    const grads = new Map<Tensor, Tensor>();
    // Gradients this pass created and may free or update in place, with how many map entries hold them.
    const owned = new Map<Tensor, number>();
    const hold = (g: Tensor) => owned.has(g) && owned.set(g, owned.get(g)! + 1);
    const drop = (g: Tensor) => {
      if (!owned.has(g)) return;
      const n = owned.get(g)! - 1;
      if (n > 0) owned.set(g, n);
      else {
        owned.delete(g);
        g.dispose();
      }
    };
    const seed = gradient ?? full(root.shape, 1);
    if (!gradient) owned.set(seed, 1);
    grads.set(root, seed);
    for (const t of topologicalOrder(root)) {
      const g = grads.get(t);
      if (!g) continue;
      grads.delete(t);
      if (!t.node) {
        accumulateLeaf(t, g);
        drop(g);
        continue;
      }
      const inputGrads = t.node.backward(g);
      const fresh = new Set<Tensor>();
      t.node.inputs.forEach((input, i) => {
        const gi = inputGrads[i];
        if (!gi) return;
        if (gi !== g && !owned.has(gi)) {
          owned.set(gi, 0);
          fresh.add(gi);
        }
        if (!input.requiresGrad) return;
        if (gi.size !== input.size) {
          throw new Error(
            `wasmtail: internal error: ${t.node!.name} backward gave a gradient of [${gi.shape}] for an input of [${input.shape}]`,
          );
        }
        const prev = grads.get(input);
        if (!prev) {
          grads.set(input, gi);
          hold(gi);
        } else if (owned.get(prev) === 1 && prev !== gi && !prev.storageShared) {
          // Only a gradient nothing else can see (not g, no view shares it) is updated in place.
          b.axpby(1, gi.storage, 1, prev.storage, prev.size);
        } else {
          const sum = empty(input.shape);
          b.copy(prev.storage, sum.storage, sum.size);
          b.axpby(1, gi.storage, 1, sum.storage, sum.size);
          owned.set(sum, 1);
          grads.set(input, sum);
          drop(prev);
        }
      });
      for (const f of fresh) {
        if (owned.get(f) === 0) {
          owned.delete(f);
          f.dispose();
        }
      }
      drop(g);
    }
  });
}

function accumulateLeaf(leaf: Tensor, g: Tensor): void {
  const b = backend();
  if (leaf.grad && !leaf.grad.isReleased) {
    b.axpby(1, g.storage, 1, leaf.grad.storage, leaf.size);
  } else {
    const grad = empty(leaf.shape, { persistent: leaf.isPersistent });
    b.copy(g.storage, grad.storage, grad.size);
    leaf.grad = grad;
  }
}
