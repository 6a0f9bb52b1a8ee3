// A Cloudflare-style worker that classifies a POSTed image with wasmtail/infer.
// workerd forbids compiling WebAssembly from bytes: the kernels arrive as a
// compiled module (a `wasm` module in the config, what wrangler makes of a
// .wasm import) and go to init({ module }); the checkpoint is a `data` module.
//
//   POST image/png                  a PNG
//   POST application/octet-stream   normalised NCHW float32 images (little-endian)
import { init, loadModel, predict, decodePng, type LoadedModel, type PredictInput } from '../../../src/infer.js';
// @ts-expect-error: resolved by workerd's module registry, not by TypeScript.
import kernels from './wasmtail.wasm';
// @ts-expect-error: resolved by workerd's module registry, not by TypeScript.
import checkpoint from './model.safetensors';

let model: Promise<LoadedModel> | null = null;

export default {
  async fetch(request: Request): Promise<Response> {
    if (request.method !== 'POST')
      return new Response('POST an image (image/png, or float32 NCHW as application/octet-stream)\n', { status: 405 });
    model ??= init({ module: kernels as WebAssembly.Module }).then(() =>
      loadModel(new Uint8Array(checkpoint as ArrayBuffer), { name: 'model.safetensors' }),
    );
    try {
      const body = new Uint8Array(await request.arrayBuffer());
      const input: PredictInput =
        request.headers.get('content-type') === 'image/png'
          ? await decodePng(body, 'posted image')
          : new Float32Array(body.buffer, body.byteOffset, body.byteLength / 4);
      const predictions = await predict(await model, input);
      return Response.json(predictions.map((p) => ({ ...p, probabilities: Array.from(p.probabilities), logits: Array.from(p.logits) })));
    } catch (e) {
      return new Response(`${(e as Error).message}\n`, { status: 400 });
    }
  },
};
