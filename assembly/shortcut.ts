// The option-A shortcut of the CIFAR ResNets (He et al. 2016): subsample
// spatially, pad channels with zeros. Pure data movement, one row of the
// output at a time. Reference: src/backend/reference/kernels/shortcut.ts.
import { at } from './simd';
import { fill } from './elementwise';

/** y [n, c + 2 padC, oh, ow] = x[:, :, ::stride, ::stride] between padC zero channels on each side. */
export function downsamplePadChannels(x: usize, y: usize, n: i32, c: i32, h: i32, w: i32, stride: i32, padC: i32): void {
  const oh = (h + stride - 1) / stride;
  const ow = (w + stride - 1) / stride;
  const oc = c + 2 * padC;
  for (let i = 0; i < n; i++) {
    fill(at(y, i * oc * oh * ow), 0, padC * oh * ow);
    fill(at(y, (i * oc + padC + c) * oh * ow), 0, padC * oh * ow);
    for (let ch = 0; ch < c; ch++) {
      const src = at(x, (i * c + ch) * h * w);
      const dst = at(y, (i * oc + ch + padC) * oh * ow);
      for (let yy = 0; yy < oh; yy++) {
        const row = src + ((<usize>(yy * stride * w)) << 2);
        const out = dst + ((<usize>(yy * ow)) << 2);
        for (let xx = 0; xx < ow; xx++) store<f32>(at(out, xx), load<f32>(at(row, xx * stride)));
      }
    }
  }
}

/** Its gradient: dx [n, c, h, w] receives dy at the sampled positions, zero elsewhere. */
export function downsamplePadChannelsBackward(dy: usize, dx: usize, n: i32, c: i32, h: i32, w: i32, stride: i32, padC: i32): void {
  const oh = (h + stride - 1) / stride;
  const ow = (w + stride - 1) / stride;
  const oc = c + 2 * padC;
  fill(dx, 0, n * c * h * w);
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      const src = at(dy, (i * oc + ch + padC) * oh * ow);
      const dst = at(dx, (i * c + ch) * h * w);
      for (let yy = 0; yy < oh; yy++) {
        const row = dst + ((<usize>(yy * stride * w)) << 2);
        const g = src + ((<usize>(yy * ow)) << 2);
        for (let xx = 0; xx < ow; xx++) store<f32>(at(row, xx * stride), load<f32>(at(g, xx)));
      }
    }
  }
}
