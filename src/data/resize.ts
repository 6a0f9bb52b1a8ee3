/**
 * Resampling a decoded image to the model's input: area averaging when
 * shrinking (each output pixel is the mean of the source area it covers,
 * fractional pixels weighted by their overlap: OpenCV's INTER_AREA, Pillow's
 * BOX on whole-number factors) and bilinear interpolation with half-pixel
 * centres when enlarging (Pillow's BILINEAR), one axis at a time.
 * Pure TypeScript, no Node imports.
 */

/** For each output index, the source indices it reads and their weights (summing to 1). */
interface AxisWeights {
  start: Int32Array;
  count: Int32Array;
  weights: Float64Array[];
}

function axisWeights(src: number, dst: number): AxisWeights {
  const start = new Int32Array(dst);
  const count = new Int32Array(dst);
  const weights: Float64Array[] = [];
  const scale = src / dst;
  for (let j = 0; j < dst; j++) {
    if (dst < src) {
      // Area: output pixel j covers [j * scale, (j + 1) * scale) of the source.
      const lo = j * scale;
      const hi = (j + 1) * scale;
      const first = Math.floor(lo);
      const last = Math.min(src - 1, Math.ceil(hi) - 1);
      const w = new Float64Array(last - first + 1);
      for (let i = first; i <= last; i++) w[i - first] = (Math.min(hi, i + 1) - Math.max(lo, i)) / scale;
      start[j] = first;
      count[j] = w.length;
      weights.push(w);
    } else {
      // Bilinear: the output pixel's centre in source coordinates, clamped at the borders.
      const centre = Math.min(src - 1, Math.max(0, (j + 0.5) * scale - 0.5));
      const i0 = Math.floor(centre);
      const f = centre - i0;
      const i1 = Math.min(src - 1, i0 + 1);
      start[j] = i0;
      count[j] = i1 > i0 ? 2 : 1;
      weights.push(i1 > i0 ? Float64Array.of(1 - f, f) : Float64Array.of(1));
    }
  }
  return { start, count, weights };
}

/**
 * Resizes `planes` planes of `srcH` x `srcW` float values (plane-major) to
 * `dstH` x `dstW`, rows first then columns. Returns float values: the
 * caller rounds once, at the end.
 */
export function resizePlanes(values: Float32Array, planes: number, srcH: number, srcW: number, dstH: number, dstW: number): Float32Array {
  const wx = axisWeights(srcW, dstW);
  const wy = axisWeights(srcH, dstH);
  const across = new Float32Array(planes * srcH * dstW);
  for (let p = 0; p < planes; p++) {
    for (let y = 0; y < srcH; y++) {
      const row = (p * srcH + y) * srcW;
      for (let x = 0; x < dstW; x++) {
        const w = wx.weights[x];
        let s = 0;
        for (let k = 0; k < wx.count[x]; k++) s += w[k] * values[row + wx.start[x] + k];
        across[(p * srcH + y) * dstW + x] = s;
      }
    }
  }
  const out = new Float32Array(planes * dstH * dstW);
  for (let p = 0; p < planes; p++) {
    for (let y = 0; y < dstH; y++) {
      const w = wy.weights[y];
      for (let x = 0; x < dstW; x++) {
        let s = 0;
        for (let k = 0; k < wy.count[y]; k++) s += w[k] * across[(p * srcH + wy.start[y] + k) * dstW + x];
        out[(p * dstH + y) * dstW + x] = s;
      }
    }
  }
  return out;
}
