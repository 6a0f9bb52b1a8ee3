/**
 * wt.losses: the training losses of the long-tail comparison, each a function
 * of logits [N, C], integer labels and its own settings, returning a scalar
 * (mean over the batch). All are composed from the differentiable ops (the
 * fused cross-entropy and feature-balanced kernels included), so their
 * gradients come from the ops' own backward passes. At evaluation every
 * model is scored on its plain logits.
 */
export { crossEntropy, featureBalanceWeights, type CrossEntropyOptions } from '../ops/index.js';
export { fblCurriculum, featureBalanced, type Curriculum, type CurriculumSchedule, type FeatureBalancedConfig } from './featureBalanced.js';
export { focal, type FocalConfig } from './focal.js';
export { ldam, ldamMargins, drwWeights, type LdamConfig } from './ldam.js';
export { classBalanced, classBalancedWeights, type ClassBalancedConfig } from './classBalanced.js';
export { logitAdjusted, logitAdjustments, type LogitAdjustedConfig } from './logitAdjusted.js';
export { makeLoss, LOSS_NAMES, type LossName, type LossConfig, type LossInput, type Loss } from './factory.js';
export { drwSchedule, type ClassWeightSchedule, type DrwOptions } from './drw.js';
export { mixup, cutmix, mixedLoss, mixingActive, BatchMixer, type BatchMixerOptions, type MixedBatch, type LabelLoss } from './mixing.js';
