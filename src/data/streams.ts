/**
 * Bounded reading of web streams (browsers, workers, workerd, Node), for
 * decompressed data whose size the format declares: the reader stops and
 * cancels the stream as soon as it runs past the bound, so a small
 * compressed file cannot fill memory. Browser-safe: no Node imports.
 */
import { DataFormatError, readIdxHeader } from './formats.js';

/** The stream's bytes; throws `tooLarge()` (and cancels the stream) once more than `maxBytes` arrive. */
export async function readAtMost(stream: ReadableStream<Uint8Array>, maxBytes: number, tooLarge: () => Error): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * An IDX file from a stream of its (already decompressed) bytes, read into at
 * most the size its header declares; more is refused naming `file`. A stream
 * that ends early is returned as it is, for parseIdx to report the truncation.
 */
export async function readIdxStream(stream: ReadableStream<Uint8Array>, file: string): Promise<Uint8Array> {
  const reader = stream.getReader();
  let head = new Uint8Array(0);
  let out: Uint8Array | null = null;
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (out === null) {
      const joined = new Uint8Array(head.length + value.length);
      joined.set(head);
      joined.set(value, head.length);
      head = joined;
      // The header is complete once its 4 + 4 x (dimension count) bytes, at most (at most 1,024) have arrived.
      if (head.length < 4 || head.length < 4 + 4 * head[3]) continue;
      const h = readIdxHeader({ file, bytes: head });
      const declared = h.headerBytes + h.dataBytes;
      if (head.length > declared) {
        await reader.cancel().catch(() => {});
        throw new DataFormatError(file, `holds more than the ${declared} bytes its IDX header [${h.dims.join(', ')}] declares`);
      }
      out = new Uint8Array(declared);
      out.set(head);
      total = head.length;
      continue;
    }
    if (total + value.length > out.length) {
      await reader.cancel().catch(() => {});
      throw new DataFormatError(
        file,
        `holds more than the ${out.length} bytes its IDX header declares (a decompression bomb or a corrupt file)`,
      );
    }
    out.set(value, total);
    total += value.length;
  }
  return out === null ? head : out.subarray(0, total);
}
