/**
 * Bounded decompression (Node-only, node:zlib). A small file must never cost
 * more memory than what its format says it holds: every inflate here is
 * given the most bytes the caller's format allows (an IDX header's
 * dimensions, a PNG's width x height x channels, a CIFAR file's records) and
 * stops, refusing the file, as soon as the stream runs past it. Node's
 * `maxOutputLength` makes zlib give up at that size, so the peak memory is
 * about the bound, whatever the stream would inflate to.
 */
import { constants, gunzipSync, inflateSync } from 'node:zlib';
import { DataFormatError } from './formats.js';

/**
 * Deflate's largest expansion: a stored length-258 match costs at least two
 * bits, so one compressed byte yields at most ~1032 bytes (zlib's tech notes).
 * A header that declares more than this times the compressed size is a lie.
 */
export const DEFLATE_MAX_RATIO = 1032;

function tooLarge(e: unknown): boolean {
  return (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
}

/** Gunzips `bytes` (one or more members), refusing a stream that inflates past `maxBytes`. */
export function gunzipBounded(file: string, bytes: Uint8Array, maxBytes: number, bound: string): Uint8Array {
  try {
    const out = gunzipSync(bytes, { maxOutputLength: Math.max(1, maxBytes) });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (e) {
    if (tooLarge(e))
      throw new DataFormatError(file, `inflates to more than ${maxBytes} bytes, ${bound} (a decompression bomb or a corrupt file)`);
    throw new DataFormatError(file, `is not a valid gzip stream (${(e as Error).message})`);
  }
}

/**
 * The first `want` inflated bytes of a gzip stream (fewer when the stream is
 * shorter or broken), inflating only a prefix of the compressed bytes: the
 * prefix doubles until enough comes out, so the output stays within
 * DEFLATE_MAX_RATIO x twice the compressed bytes needed.
 */
export function gunzipPrefix(bytes: Uint8Array, want: number): Uint8Array {
  for (let take = 64; ; take *= 2) {
    let out: Uint8Array = new Uint8Array(0);
    try {
      out = gunzipSync(bytes.subarray(0, take), { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: DEFLATE_MAX_RATIO * take + want });
    } catch {
      // A broken stream: the full gunzip reports it with the file's name.
    }
    if (out.length >= want || take >= bytes.length) return out.subarray(0, want);
  }
}

/**
 * zlib inflate (PNG's IDAT) into at most `maxBytes`: throws an Error saying
 * so when the stream holds more (the caller names the file).
 */
export function inflateBounded(data: Uint8Array, maxBytes: number): Uint8Array {
  try {
    const out = inflateSync(data, { maxOutputLength: Math.max(1, maxBytes) });
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (e) {
    if (tooLarge(e)) throw new Error(`inflates to more than the ${maxBytes} bytes its header allows`);
    throw e;
  }
}
