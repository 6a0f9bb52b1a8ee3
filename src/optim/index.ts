export { SGD, sgd, type SgdOptions } from './sgd.js';
