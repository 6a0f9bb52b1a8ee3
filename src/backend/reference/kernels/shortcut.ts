// The option-A shortcut of the CIFAR ResNets: subsample spatially, pad channels with zeros.
import type { FArray } from './types.js';

export function downsamplePadChannelsRef(
  x: FArray,
  y: FArray,
  n: number,
  c: number,
  h: number,
  w: number,
  stride: number,
  padC: number,
): void {
  const oh = Math.ceil(h / stride);
  const ow = Math.ceil(w / stride);
  const oc = c + 2 * padC;
  y.fill(0, 0, n * oc * oh * ow);
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      const src = (i * c + ch) * h * w;
      const dst = (i * oc + ch + padC) * oh * ow;
      for (let yy = 0; yy < oh; yy++) {
        for (let xx = 0; xx < ow; xx++) y[dst + yy * ow + xx] = x[src + yy * stride * w + xx * stride];
      }
    }
  }
}

export function downsamplePadChannelsBackwardRef(
  dy: FArray,
  dx: FArray,
  n: number,
  c: number,
  h: number,
  w: number,
  stride: number,
  padC: number,
): void {
  const oh = Math.ceil(h / stride);
  const ow = Math.ceil(w / stride);
  const oc = c + 2 * padC;
  dx.fill(0, 0, n * c * h * w);
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      const dst = (i * c + ch) * h * w;
      const src = (i * oc + ch + padC) * oh * ow;
      for (let yy = 0; yy < oh; yy++) {
        for (let xx = 0; xx < ow; xx++) dx[dst + yy * stride * w + xx * stride] = dy[src + yy * ow + xx];
      }
    }
  }
}
