// Batch normalisation over NCHW (reference: ../../reference/kernels/batchnorm.ts).
// Training forward and backward run one workgroup per channel: two-pass
// statistics (mean, then squared deviations) reduced in workgroup memory,
// then the per-element pass. Eval forward is elementwise.
import { WG, WORKGROUP_SUM, type WgslKernel, elementwise, f32, kernel, u32 } from './common.js';

// Element j of channel ch: sample j / hw, offset j % hw.
const CHANNEL_LOOP = (body: string) => `for (var j = lid; j < count; j += ${WG}u) {
    let idx = ((j / p.hw) * p.c + ch) * p.hw + j % p.hw;
    ${body}
  }`;

export const BATCHNORM_KERNELS: Record<string, WgslKernel> = {
  batchNormForwardTrain: kernel(
    [...u32('n', 'c', 'hw'), ...f32('momentum', 'eps')],
    ['x', 'gamma', 'beta', 'y', 'runningMean', 'runningVar', 'saveMean', 'saveInvStd'],
    `${WORKGROUP_SUM}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let ch = wid.x;
  let count = p.n * p.hw;
  var s = 0.0;
  ${CHANNEL_LOOP('s += x[idx];')}
  let mean = workgroupSum(s, lid) / f32(count);
  var ss = 0.0;
  ${CHANNEL_LOOP('let d = x[idx] - mean; ss += d * d;')}
  let variance = workgroupSum(ss, lid) / f32(count);
  let invStd = 1.0 / sqrt(variance + p.eps);
  if (lid == 0u) {
    var unbiased = variance;
    if (count > 1u) { unbiased = variance * f32(count) / f32(count - 1u); }
    saveMean[ch] = mean;
    saveInvStd[ch] = invStd;
    runningMean[ch] = (1.0 - p.momentum) * runningMean[ch] + p.momentum * mean;
    runningVar[ch] = (1.0 - p.momentum) * runningVar[ch] + p.momentum * unbiased;
  }
  let g = gamma[ch];
  let b = beta[ch];
  ${CHANNEL_LOOP('y[idx] = (x[idx] - mean) * invStd * g + b;')}
}`,
  ),
  batchNormForwardEval: elementwise(
    ['c', 'hw'],
    ['eps'],
    ['x', 'gamma', 'beta', 'y', 'runningMean', 'runningVar'],
    `
  let ch = (i / p.hw) % p.c;
  let invStd = 1.0 / sqrt(runningVar[ch] + p.eps);
  y[i] = (x[i] - runningMean[ch]) * invStd * gamma[ch] + beta[ch];`,
  ),
  batchNormBackward: kernel(
    u32('n', 'c', 'hw', 'training'),
    ['x', 'dy', 'gamma', 'mean', 'invStd', 'dx', 'dgamma', 'dbeta'],
    `${WORKGROUP_SUM}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let ch = wid.x;
  let count = p.n * p.hw;
  let mu = mean[ch];
  let istd = invStd[ch];
  var s1 = 0.0;
  var s2 = 0.0;
  ${CHANNEL_LOOP('let g = dy[idx]; s1 += g; s2 += g * (x[idx] - mu) * istd;')}
  let sdy = workgroupSum(s1, lid);
  let sdyXhat = workgroupSum(s2, lid);
  if (lid == 0u) {
    dbeta[ch] = sdy;
    dgamma[ch] = sdyXhat;
  }
  let a = gamma[ch] * istd;
  let n = f32(count);
  if (p.training != 0u) {
    ${CHANNEL_LOOP('dx[idx] = a * (dy[idx] - sdy / n - (x[idx] - mu) * istd * sdyXhat / n);')}
  } else {
    ${CHANNEL_LOOP('dx[idx] = a * dy[idx];')}
  }
}`,
  ),
};
