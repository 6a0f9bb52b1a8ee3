// Shared by the demo-page tests in Chromium (browser.test.ts, playwright-core) and Firefox (firefox.test.ts,
// puppeteer-core): what web/app.js exposes as `window.wasmtailDemo`, and the dropped test image.
import { encodePng } from '../util/png.js';
import { PIXELS, SNEAKER } from './fixture.js';

export interface PlainPrediction {
  top1: number;
  name: string;
  probability: number;
  logits: number[];
}
export interface Training {
  losses: [number, number][];
  evals: { step: number; accuracy: number[]; featureNorm: number[] }[];
  done: boolean;
  error?: string;
  threads?: number;
}
export interface Demo {
  ready: Promise<void>;
  predict(x: number[]): Promise<PlainPrediction[]>;
  predictInWorker(x: number[]): Promise<PlainPrediction[]>;
  startTraining(o: object): void;
  training(): Record<'ce' | 'fbl', Training>;
}

/** The test set's Sneaker as PNG bytes, a plain array to pass into the page. */
export const sneakerPng = () => Array.from(encodePng(PIXELS.subarray(SNEAKER * 784, (SNEAKER + 1) * 784), 28, 28, 1));

/** Runs in the page (`page.evaluate(dropPng, bytes)`): drops the PNG bytes on #drop as a file would be. */
export const dropPng = (bytes: number[]) => {
  const drop = new DataTransfer();
  drop.items.add(new File([new Uint8Array(bytes)], 'sneaker.png', { type: 'image/png' }));
  document.getElementById('drop')!.dispatchEvent(new DragEvent('drop', { dataTransfer: drop, bubbles: true, cancelable: true }));
};
