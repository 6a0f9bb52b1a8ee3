/**
 * wasmtail/infer in a Web Worker: { checkpoint: URL, input } in, the
 * predictions out. The page's tests use it to check that a worker gives the
 * same logits as the page; it is also the smallest example of inference off
 * the main thread.
 */
import { init, loadModel, predict, type LoadedModel, type PredictInput } from '../src/infer.js';

let model: Promise<LoadedModel> | null = null;
let loaded = '';

self.onmessage = async (e: MessageEvent<{ id: number; checkpoint: string; input: PredictInput }>) => {
  const { id, checkpoint, input } = e.data;
  try {
    if (!model || loaded !== checkpoint) {
      loaded = checkpoint;
      model = (async () => {
        await init({ wasm: new URL('./wasmtail.wasm', self.location.href) });
        const res = await fetch(checkpoint);
        if (!res.ok) throw new Error(`${checkpoint}: HTTP ${res.status}`);
        return loadModel(new Uint8Array(await res.arrayBuffer()), { name: checkpoint });
      })();
    }
    const predictions = await predict(await model, input);
    (self as unknown as Worker).postMessage({ id, predictions });
  } catch (err) {
    (self as unknown as Worker).postMessage({ id, error: (err as Error).message });
  }
};
