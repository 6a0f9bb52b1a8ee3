// The train flags of the sweep tests' cells: a one-epoch ResNet-20 on 64 shipped images.
export const TINY = [
  '--dataset',
  'fashion-mnist-lt',
  '--arch',
  'resnet20',
  '--epochs',
  '1',
  '--limit-train',
  '64',
  '--limit-test',
  '50',
  '--warmup',
  '1',
];
