export { Module } from './module.js';
export { Conv2d, BatchNorm2d, Linear, ReLU } from './layers.js';
export { NormedLinear, normedLinear } from './normedLinear.js';
export {
  BasicBlock,
  CifarResNet,
  resnet8,
  resnet20,
  resnet32,
  resnet44,
  resnet56,
  resnet110,
  ARCHITECTURES,
  type ArchName,
  type ResNetOptions,
  type ModelOutput,
} from './resnet.js';
export { InitRng, kaimingNormal } from './random.js';
export { describeStateDict, resnetFromStateDict, type ModelDescription, type StateDictTensor } from './fromStateDict.js';
