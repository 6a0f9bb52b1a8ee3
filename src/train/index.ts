export { train, NumericalError, type EpochRecord, type RunSummary, type TrainOptions } from './run.js';
export { DEFAULTS, PRESETS, resolveConfig, learningRate, lrSteps, type TrainConfig, type DatasetChoice, type LossName } from './config.js';
export { evaluate, shotGroup, type EvalMetrics } from './evaluate.js';
export { loadRunData, shippedDataDir, type RunData } from './data.js';
export { saveCheckpoint, loadCheckpoint } from './checkpoint.js';
export { PosthocScorer, logitAdjustedLogits, tauNormalizedWeight, tauNormalizedLogits, shotAccuracy, type PosthocMetrics, type PosthocOptions, type ShotAccuracy } from './posthoc.js';
export { resolveToolboxOptions, TOOLBOX_DEFAULTS, type ToolboxOptions, type ToolboxInput } from './toolboxOptions.js';
