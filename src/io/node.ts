// wt.io under Node: the browser-safe codecs plus files on disk (atomic writes).
export * from './index.js';
export { loadSafetensorsFile, saveSafetensorsFile, writeFileAtomic } from './files.js';
