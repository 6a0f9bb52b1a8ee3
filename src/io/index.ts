// Browser-safe I/O. The Node-only helpers (files on disk, atomic writes) live
// in `./files.js` and are imported from there by the CLI and trainer.
export {
  loadSafetensors,
  saveSafetensors,
  SafetensorsError,
  MAX_HEADER_BYTES,
  READABLE_DTYPES,
  type LoadedTensor,
  type TensorToSave,
  type SafetensorsContents,
} from './safetensors.js';
