export { train, NumericalError, type EpochRecord, type RunSummary, type TrainOptions } from './run.js';
export {
  trainStep,
  trainEpoch,
  type TrainingParts,
  type StepContext,
  type StepResult,
  type EpochTotals,
  type EpochHooks,
  type EpochResult,
} from './trainer.js';
export {
  warmupStepDecay,
  constant,
  fblCurriculumSchedule,
  type Position,
  type Schedule,
  type WarmupStepDecayOptions,
} from './schedules.js';
export {
  DEFAULTS,
  PRESETS,
  resolveConfig,
  learningRate,
  learningRateSchedule,
  lrSteps,
  type TrainConfig,
  type DatasetChoice,
  type LossName,
} from './config.js';
export { evaluate, type EvalMetrics } from './evaluate.js';
export { argmax, countCorrect, shotGroup, perClassAccuracy, groupAccuracy, type ShotGroup } from './metrics.js';
export { loadRunData, shippedDataDir, type RunData } from './data.js';
export { saveCheckpoint, loadCheckpoint } from './checkpoint.js';
export {
  PosthocScorer,
  logitAdjustedLogits,
  tauNormalizedWeight,
  tauNormalizedLogits,
  shotAccuracy,
  type PosthocMetrics,
  type PosthocOptions,
  type ShotAccuracy,
} from './posthoc.js';
export { resolveToolboxOptions, TOOLBOX_DEFAULTS, type ToolboxOptions, type ToolboxInput } from './toolboxOptions.js';
