/**
 * safetensors checkpoints, read and written from scratch (no Node imports, so
 * this module runs in browsers and edge runtimes too).
 *
 * Layout (https://github.com/huggingface/safetensors, "Format"):
 *
 *   [8 bytes]  N, the header length, unsigned 64-bit little-endian
 *   [N bytes]  UTF-8 JSON object, starting with '{', optionally padded with
 *              spaces: { name: { dtype, shape, data_offsets: [begin, end] },
 *              "__metadata__": { string: string } }
 *   [rest]     the byte buffer; offsets are relative to its start, tensors
 *              are row-major and little-endian.
 *
 * Reading is at least as strict as the reference Rust parser: the header
 * length must stay within the file and under 100 MB, every tensor's byte
 * length must equal product(shape) × dtype size, and the tensors sorted by
 * offset must tile the byte buffer exactly (no overlap, no hole, no trailing
 * bytes). On top of that we refuse what the spec forbids but the reference
 * lets through: a header not starting with '{', duplicate keys, lone UTF-16
 * surrogates in names. Every refusal is a `SafetensorsError` whose message
 * starts with the file name and says what is wrong.
 */

import { JsonNumber, JsonSyntaxError, parseStrictJson, type JsonValue } from './json.js';

/** A tensor read from a checkpoint: values converted to float32, original dtype kept. */
export interface LoadedTensor {
  /** The dtype stored in the file (`F32`, `F16`, `BF16`, `I64`, ...). */
  dtype: string;
  shape: number[];
  data: Float32Array;
}

/** A tensor to write: always stored as little-endian F32. */
export interface TensorToSave {
  shape: readonly number[];
  data: Float32Array;
}

/**
 * The tensors by name (a Map, in file order), with the file's `__metadata__`
 * table alongside; `tensors` is the map itself, for destructuring.
 */
export interface SafetensorsContents extends Map<string, LoadedTensor> {
  readonly tensors: Map<string, LoadedTensor>;
  /** The `__metadata__` table; empty when the file has none. */
  readonly metadata: Record<string, string>;
}

/** A malformed or unsupported file. `file` is the name given to the loader. */
export class SafetensorsError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
    this.name = 'SafetensorsError';
  }
}

/** The reference parser's limit on the header length. */
export const MAX_HEADER_BYTES = 100_000_000;

type Converter = (bytes: Uint8Array, count: number) => Float32Array;

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function convertWith(size: number, read: (view: DataView, offset: number) => number): Converter {
  return (bytes, count) => {
    const out = new Float32Array(count);
    const view = viewOf(bytes);
    for (let i = 0; i < count; i++) out[i] = read(view, i * size);
    return out;
  };
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** IEEE 754 binary16 → float32, exact (every half is representable). */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** bfloat16 is the top half of a float32. */
function bfloat16ToFloat(b: number): number {
  u32Scratch[0] = b << 16;
  return f32Scratch[0];
}

/**
 * int64 → float32 with a single round-to-nearest-even, as a C cast (and
 * PyTorch's `.float()`) does. Going through a double first would round twice
 * and differ above 2^53 (e.g. 2^54 + 2^30 + 1).
 */
function bigIntToFloat(v: bigint): number {
  const magnitude = v < 0n ? -v : v;
  if (magnitude <= 2n ** 53n) return Number(v);
  const shift = BigInt(magnitude.toString(2).length - 24);
  let mantissa = magnitude >> shift;
  const rest = magnitude - (mantissa << shift);
  const half = 1n << (shift - 1n);
  if (rest > half || (rest === half && (mantissa & 1n) === 1n)) mantissa += 1n;
  const rounded = Number(mantissa) * 2 ** Number(shift);
  return v < 0n ? -rounded : rounded;
}

const CONVERTERS: Record<string, { size: number; convert: Converter }> = {
  F32: {
    size: 4,
    convert: LITTLE_ENDIAN_HOST
      ? (bytes, count) => {
          // Copy (never `slice`: on a Node Buffer it returns a view of a shared pool).
          const copy = new Uint8Array(count * 4);
          copy.set(bytes.subarray(0, count * 4));
          return new Float32Array(copy.buffer);
        }
      : convertWith(4, (v, o) => v.getFloat32(o, true)),
  },
  F64: { size: 8, convert: convertWith(8, (v, o) => v.getFloat64(o, true)) },
  F16: { size: 2, convert: convertWith(2, (v, o) => halfToFloat(v.getUint16(o, true))) },
  BF16: { size: 2, convert: convertWith(2, (v, o) => bfloat16ToFloat(v.getUint16(o, true))) },
  I64: { size: 8, convert: convertWith(8, (v, o) => bigIntToFloat(v.getBigInt64(o, true))) },
  U64: { size: 8, convert: convertWith(8, (v, o) => bigIntToFloat(v.getBigUint64(o, true))) },
  I32: { size: 4, convert: convertWith(4, (v, o) => v.getInt32(o, true)) },
  U32: { size: 4, convert: convertWith(4, (v, o) => v.getUint32(o, true)) },
  I16: { size: 2, convert: convertWith(2, (v, o) => v.getInt16(o, true)) },
  U16: { size: 2, convert: convertWith(2, (v, o) => v.getUint16(o, true)) },
  I8: { size: 1, convert: convertWith(1, (v, o) => v.getInt8(o)) },
  U8: { size: 1, convert: convertWith(1, (v, o) => v.getUint8(o)) },
  BOOL: { size: 1, convert: convertWith(1, (v, o) => (v.getUint8(o) ? 1 : 0)) },
};

/** Dtypes the spec defines that we recognise but cannot convert to float32. */
const UNSUPPORTED_DTYPES = new Set(['F8_E5M2', 'F8_E4M3', 'F8_E8M0', 'F6_E2M3', 'F6_E3M2', 'F4', 'C64']);

/** The dtypes `loadSafetensors` converts to float32. */
export const READABLE_DTYPES: readonly string[] = Object.keys(CONVERTERS);

const METADATA_KEY = '__metadata__';
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

interface HeaderEntry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

const describe = (s: string) => JSON.stringify(s);

function elementCount(shape: readonly number[]): number {
  if (shape.includes(0)) return 0;
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Parse a safetensors file held in memory.
 *
 * @param bytes the whole file
 * @param name  the file name to put in error messages
 * @returns every tensor converted to float32 (its stored dtype in `dtype`),
 *          and the `__metadata__` table
 * @throws SafetensorsError naming `name` and the cause, for any malformed,
 *         truncated or unsupported input
 */
export function loadSafetensors(bytes: Uint8Array, name = 'checkpoint'): SafetensorsContents {
  const refuse = (reason: string): never => {
    throw new SafetensorsError(name, reason);
  };
  if (!(bytes instanceof Uint8Array)) refuse('expected the file contents as a Uint8Array');
  if (bytes.length < 8) {
    refuse(`file is ${bytes.length} bytes, too short for the 8-byte header length`);
  }
  const headerLength = viewOf(bytes).getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    refuse(`header length ${headerLength} exceeds the ${MAX_HEADER_BYTES}-byte limit (not a safetensors file?)`);
  }
  const n = Number(headerLength);
  if (8 + n > bytes.length) {
    refuse(`header length ${n} runs past the end of the file (${bytes.length} bytes; truncated?)`);
  }
  if (n === 0 || bytes[8] !== 0x7b) refuse(`header does not start with '{' (not a safetensors file?)`);

  let headerText = '';
  try {
    headerText = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    refuse('header is not valid UTF-8');
  }
  let header: JsonValue = null;
  try {
    header = parseStrictJson(headerText);
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err;
    refuse(`header is not valid JSON: ${err.message}`);
  }
  if (!(header instanceof Map)) return refuse('header is not a JSON object');

  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const metadata: [string, string][] = [];
  const entries: HeaderEntry[] = [];

  for (const [key, value] of header) {
    if (key === METADATA_KEY) {
      if (value === null) continue;
      if (!(value instanceof Map)) refuse(`"${METADATA_KEY}" is not an object`);
      for (const [mk, mv] of value as Map<string, JsonValue>) {
        if (typeof mv !== 'string') refuse(`metadata value for ${describe(mk)} is not a string`);
        metadata.push([mk, mv as string]);
      }
      continue;
    }
    entries.push(readEntry(key, value, dataLength, refuse));
  }

  // The reference parser sorts by (begin, end) and then requires each tensor
  // to start where the previous one ended and the last to end at the end of
  // the file: the byte buffer is tiled exactly, with no overlap and no hole.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let previous: HeaderEntry | undefined;
  for (const e of entries) {
    if (e.begin > cursor) {
      refuse(`hole in the data buffer: bytes ${cursor}..${e.begin} belong to no tensor (before ${describe(e.name)})`);
    }
    if (e.begin < cursor) {
      refuse(
        `tensor ${describe(e.name)} (bytes ${e.begin}..${e.end}) overlaps ${describe(previous!.name)} (bytes ${previous!.begin}..${previous!.end})`,
      );
    }
    cursor = e.end;
    previous = e;
  }
  if (cursor !== dataLength) {
    refuse(`data buffer has ${dataLength - cursor} trailing bytes after the last tensor (byte ${cursor} of ${dataLength})`);
  }

  const tensors = new Map<string, LoadedTensor>();
  for (const e of entries) {
    const { convert } = CONVERTERS[e.dtype];
    const data = convert(bytes.subarray(dataStart + e.begin, dataStart + e.end), elementCount(e.shape));
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return Object.assign(tensors, { tensors, metadata: Object.fromEntries(metadata) });
}

function readEntry(name: string, value: JsonValue, dataLength: number, refuse: (reason: string) => never): HeaderEntry {
  const where = `tensor ${describe(name)}`;
  if (LONE_SURROGATE.test(name)) refuse(`${where}: name is not valid Unicode`);
  if (!(value instanceof Map)) return refuse(`${where}: entry is not an object`);
  const dtype = value.get('dtype');
  const shape = value.get('shape');
  const offsets = value.get('data_offsets');
  if (typeof dtype !== 'string') return refuse(`${where}: missing or non-string "dtype"`);
  const converter = CONVERTERS[dtype];
  if (!converter) {
    return refuse(
      UNSUPPORTED_DTYPES.has(dtype)
        ? `${where}: dtype ${dtype} is not supported (readable: ${READABLE_DTYPES.join(', ')})`
        : `${where}: unknown dtype ${describe(dtype)}`,
    );
  }
  if (!Array.isArray(shape)) return refuse(`${where}: missing or non-array "shape"`);
  const dims = shape.map((d) => readUnsigned(d, `${where}: shape`, refuse));
  if (!Array.isArray(offsets) || offsets.length !== 2) {
    return refuse(`${where}: "data_offsets" must be [begin, end]`);
  }
  const begin = readUnsigned(offsets[0], `${where}: data_offsets`, refuse);
  const end = readUnsigned(offsets[1], `${where}: data_offsets`, refuse);
  if (begin > end) refuse(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
  if (end > dataLength) {
    refuse(`${where}: data_offsets [${begin}, ${end}] run past the end of the data buffer (${dataLength} bytes; truncated?)`);
  }
  const count = elementCount(dims);
  const needed = count * converter.size;
  if (!Number.isSafeInteger(needed)) refuse(`${where}: shape [${dims.join(', ')}] is too large`);
  if (end - begin !== needed) {
    refuse(
      `${where}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes but shape [${dims.join(', ')}] of ${dtype} needs ${needed}`,
    );
  }
  return { name, dtype, shape: dims, begin, end };
}

function readUnsigned(value: JsonValue, what: string, refuse: (reason: string) => never): number {
  if (!(value instanceof JsonNumber) || !/^(?:0|[1-9][0-9]*)$/.test(value.raw)) {
    return refuse(`${what} must hold non-negative integers`);
  }
  const n = Number(value.raw);
  if (!Number.isSafeInteger(n)) return refuse(`${what}: ${value.raw} is too large`);
  return n;
}

const encoder = new TextEncoder();

function compareUtf8(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/**
 * Serialise tensors as a safetensors file, all as little-endian F32.
 *
 * Like the reference writer, tensors are laid out in name order (by UTF-8
 * bytes) and the header is padded with spaces to a multiple of 8 bytes so the
 * data is aligned. `__metadata__` is written only when `metadata` has entries.
 *
 * @throws Error naming the tensor when a shape is invalid or does not match
 *         the data length, when a name is reserved or not valid Unicode, or
 *         when a metadata value is not a string
 */
export function saveSafetensors(
  tensors: Map<string, TensorToSave> | Record<string, TensorToSave>,
  metadata?: Record<string, string>,
): Uint8Array {
  const fail = (reason: string): never => {
    throw new Error(`saveSafetensors: ${reason}`);
  };
  const input = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const items = input.map(([name, t]) => {
    const where = `tensor ${describe(name)}`;
    if (typeof name !== 'string') fail(`tensor names must be strings`);
    if (name === METADATA_KEY) fail(`"${METADATA_KEY}" is reserved and cannot name a tensor`);
    if (LONE_SURROGATE.test(name)) fail(`${where}: name is not valid Unicode`);
    if (!t || !(t.data instanceof Float32Array)) return fail(`${where}: data must be a Float32Array`);
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      return fail(`${where}: shape must be an array of non-negative integers`);
    }
    const count = elementCount(t.shape);
    if (count !== t.data.length) {
      fail(`${where}: shape [${t.shape.join(', ')}] has ${count} elements but data has ${t.data.length}`);
    }
    return { name, key: encoder.encode(name), shape: [...t.shape], data: t.data };
  });
  items.sort((a, b) => compareUtf8(a.key, b.key));

  const parts: string[] = [];
  const metaEntries = Object.entries(metadata ?? {});
  if (metaEntries.length > 0) {
    for (const [k, v] of metaEntries) {
      if (typeof v !== 'string') fail(`metadata value for ${describe(k)} is not a string`);
      if (LONE_SURROGATE.test(k) || LONE_SURROGATE.test(v)) fail(`metadata entry ${describe(k)} is not valid Unicode`);
    }
    const body = metaEntries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',');
    parts.push(`${JSON.stringify(METADATA_KEY)}:{${body}}`);
  }
  let offset = 0;
  for (const item of items) {
    const end = offset + item.data.length * 4;
    parts.push(`${JSON.stringify(item.name)}:{"dtype":"F32","shape":${JSON.stringify(item.shape)},"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = encoder.encode(`{${parts.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  const view = viewOf(out);
  view.setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);

  let pos = 8 + headerLength;
  for (const { data } of items) {
    if (LITTLE_ENDIAN_HOST) {
      out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), pos);
    } else {
      for (let i = 0; i < data.length; i++) view.setFloat32(pos + i * 4, data[i], true);
    }
    pos += data.byteLength;
  }
  return out;
}
