// A kernel thread pool whose workers cannot start: a message saying how many
// failed and why, the started ones stopped, and no hang.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { ThreadPool } from '../../src/backend/wasm/threads.js';

it('workers that fail to instantiate the kernels: one error naming the count and the cause', async () => {
  // A module importing a function the workers do not provide: instantiation throws a LinkError on every worker.
  const bytes = Uint8Array.from([
    0,
    97,
    115,
    109,
    1,
    0,
    0,
    0,
    1,
    4,
    1,
    96,
    0,
    0,
    2,
    15,
    1,
    3,
    ...Buffer.from('env'),
    7,
    ...Buffer.from('missing'),
    0,
    0,
  ]);
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  let freed = 0;
  const target = { module: new WebAssembly.Module(bytes), memory, exports: {}, alloc: () => 64, free: () => void freed++ };
  await assert.rejects(
    ThreadPool.create(target, 3, []),
    /wasmtail: 2 of 2 kernel worker threads failed to start \(.*missing.*\); use fewer threads/,
  );
  assert.equal(freed, 1, 'the control block goes back to the allocator');
});
