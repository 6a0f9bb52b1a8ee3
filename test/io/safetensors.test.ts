import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  loadSafetensors,
  saveSafetensors,
  SafetensorsError,
  type LoadedTensor,
  type SafetensorsContents,
  type TensorToSave,
} from '../../src/io/index.js';

const FIXTURES = new URL('./fixtures/', import.meta.url);
const encoder = new TextEncoder();

/** Build a file from a raw header string and data bytes (header not padded). */
function rawFile(header: string | Uint8Array, data: Uint8Array | number = 0): Uint8Array {
  const h = typeof header === 'string' ? encoder.encode(header) : header;
  const d = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + h.length + d.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  out.set(d, 8 + h.length);
  return out;
}

const wellFormed = (s: string) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

function bits(a: Float32Array): number[] {
  return [...new Uint32Array(a.buffer, a.byteOffset, a.length)];
}

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Refusals must be our Error subclass, name the file, and never leak a RangeError or TypeError. */
function assertRefused(fn: () => unknown, file: string, cause?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof SafetensorsError, `expected SafetensorsError, got ${String(err)}`);
    assert.equal(err.file, file);
    assert.ok(err.message.startsWith(`${file}: `), err.message);
    if (cause) assert.match(err.message, cause);
    return true;
  });
}

// ---------------------------------------------------------------------------
// Byte-exact agreement with the reference writer. The expected bytes are the
// vectors in safetensors' own Rust unit tests (safetensors/src/tensor.rs:
// test_serialization, test_serialization_forced_alignement, test_empty).

test('writes the same bytes as the reference implementation', () => {
  const data = new Float32Array([0, 1, 2, 3, 4, 5]);
  const header = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
  const expected = new Uint8Array([64, 0, 0, 0, 0, 0, 0, 0, ...encoder.encode(header), ...new Uint8Array(data.buffer)]);
  assert.deepEqual(saveSafetensors({ 'attn.0': { shape: [1, 2, 3], data } }), expected);

  const aligned = saveSafetensors({ attn0: { shape: [1, 1, 2, 3], data } });
  assert.equal(aligned[0], 72);
  assert.deepEqual([...aligned.subarray(8 + 65, 8 + 72)], Array(7).fill(32));

  assert.deepEqual(saveSafetensors({}), new Uint8Array([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]));
  const withMetadata = saveSafetensors({}, { framework: 'pt' });
  assert.deepEqual(
    withMetadata,
    new Uint8Array([40, 0, 0, 0, 0, 0, 0, 0, ...encoder.encode('{"__metadata__":{"framework":"pt"}}'), 32, 32, 32, 32, 32]),
  );
  assert.deepEqual(loadSafetensors(withMetadata).metadata, { framework: 'pt' });
});

test('writes tensors in name order with 8-byte aligned data', () => {
  const bytes = saveSafetensors(
    new Map<string, TensorToSave>([
      ['b', { shape: [1], data: new Float32Array([2]) }],
      ['a', { shape: [2], data: new Float32Array([1, 1]) }],
      ['é', { shape: [], data: new Float32Array([3]) }],
      ['z', { shape: [0], data: new Float32Array(0) }],
    ]),
  );
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(n % 8, 0);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  assert.deepEqual(Object.keys(header), ['a', 'b', 'z', 'é']);
  assert.deepEqual(header.a.data_offsets, [0, 8]);
  assert.deepEqual(header.é.data_offsets, [12, 16]);
  assert.deepEqual([...loadSafetensors(bytes).tensors.keys()], ['a', 'b', 'z', 'é']);
});

// ---------------------------------------------------------------------------
// Round trips.

const tensorName = fc.string({ unit: 'binary', maxLength: 12 }).filter((s) => s !== '__metadata__' && wellFormed(s));
const shape = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 });
const tensor = shape.chain((s) =>
  fc
    .array(fc.float({ noDefaultInfinity: false }), { minLength: product(s), maxLength: product(s) })
    .map((values) => ({ shape: s, data: new Float32Array(values) })),
);
const metadataRecord = fc.dictionary(
  fc.string({ unit: 'binary', maxLength: 10 }).filter((s) => wellFormed(s)),
  fc.string({ unit: 'binary', maxLength: 20 }).filter((s) => wellFormed(s)),
  { maxKeys: 4 },
);

const ROUND_TRIP_RUNS = 300;
test(`round trip: random names, shapes (incl. scalars and zero-size dims), values, metadata (${ROUND_TRIP_RUNS} runs)`, () => {
  fc.assert(
    fc.property(fc.dictionary(tensorName, tensor, { maxKeys: 6 }), metadataRecord, (tensors, metadata) => {
      const bytes = saveSafetensors(tensors, metadata);
      const loaded = loadSafetensors(bytes, 'round-trip.safetensors');
      assert.equal(loaded.tensors.size, Object.keys(tensors).length);
      for (const [name, t] of Object.entries(tensors)) {
        const back = loaded.tensors.get(name) as LoadedTensor;
        assert.equal(back.dtype, 'F32');
        assert.deepEqual(back.shape, t.shape);
        assert.deepEqual(bits(back.data), bits(t.data), 'bit-exact, NaN payloads and -0 included');
      }
      assert.deepEqual(Object.entries(loaded.metadata), Object.entries(metadata));
      assert.deepEqual(saveSafetensors(loaded.tensors, loaded.metadata), bytes, 'saving again gives the same bytes');
    }),
    { numRuns: ROUND_TRIP_RUNS },
  );
});

test('round trip keeps metadata keys that look like Object.prototype members', () => {
  const metadata = JSON.parse('{"__proto__":"p","constructor":"c","epoch":"12"}');
  const loaded = loadSafetensors(saveSafetensors({}, metadata));
  assert.deepEqual(Object.entries(loaded.metadata), [
    ['__proto__', 'p'],
    ['constructor', 'c'],
    ['epoch', '12'],
  ]);
});

test('loads from a Node Buffer view into a shared pool without aliasing it', () => {
  const bytes = saveSafetensors({ w: { shape: [3], data: new Float32Array([1, 2, 3]) } });
  const pooled = Buffer.concat([Buffer.from('junk!'), Buffer.from(bytes)]).subarray(5);
  const w = loadSafetensors(pooled).tensors.get('w')!;
  assert.deepEqual([...w.data], [1, 2, 3]);
  assert.equal(w.data.buffer.byteLength, 12);
});

// ---------------------------------------------------------------------------
// PyTorch fixture (made by scripts/make-safetensors-fixture.py; see docs/IO.md).

test('reads the PyTorch fixture: F32, F16, BF16, F64, I32, I64, scalars, empty tensors', () => {
  const expected = JSON.parse(readFileSync(new URL('torch-mixed.expected.json', FIXTURES), 'utf8')) as {
    tensors: Record<string, { dtype: string; shape: number[]; float32: (number | string)[] }>;
  };
  const loaded = loadSafetensors(readFileSync(new URL('torch-mixed.safetensors', FIXTURES)), 'torch-mixed.safetensors');
  assert.deepEqual(loaded.metadata, { format: 'pt', note: 'made by scripts/make-safetensors-fixture.py' });
  assert.deepEqual([...loaded.tensors.keys()].sort(), Object.keys(expected.tensors).sort());
  const decode = (v: number | string) => (typeof v === 'string' ? Number(v) : v);
  for (const [name, want] of Object.entries(expected.tensors)) {
    const got = loaded.tensors.get(name)!;
    assert.equal(got.dtype, want.dtype, name);
    assert.deepEqual(got.shape, want.shape, name);
    assert.equal(got.data.length, want.float32.length, name);
    want.float32.forEach((v, i) => {
      assert.ok(Object.is(got.data[i], decode(v)), `${name}[${i}]: ${got.data[i]} != ${v}`);
    });
  }
  assert.equal(loaded.tensors.get('bn1.num_batches_tracked')!.dtype, 'I64');
  assert.deepEqual(loaded.tensors.get('bn1.num_batches_tracked')!.shape, []);
});

// ---------------------------------------------------------------------------
// Strictness: each malformation is refused with the file name and the cause.

const F = 'bad.safetensors';
const ok = (entries: string) => `{${entries}}`;

test('refuses truncated and oversized headers', () => {
  assertRefused(() => loadSafetensors(new Uint8Array(0), F), F, /0 bytes, too short/);
  assertRefused(() => loadSafetensors(new Uint8Array(7), F), F, /too short/);
  const huge = new Uint8Array(16);
  new DataView(huge.buffer).setBigUint64(0, 100_000_001n, true);
  assertRefused(() => loadSafetensors(huge, F), F, /exceeds the 100000000-byte limit/);
  new DataView(huge.buffer).setBigUint64(0, 0xffff_ffff_ffff_ffffn, true);
  assertRefused(() => loadSafetensors(huge, F), F, /exceeds/);
  const past = rawFile('{}');
  new DataView(past.buffer).setBigUint64(0, 3n, true);
  assertRefused(() => loadSafetensors(past, F), F, /header length 3 runs past the end of the file \(10 bytes/);
  const valid = saveSafetensors({ w: { shape: [4], data: new Float32Array(4) } });
  assertRefused(() => loadSafetensors(valid.subarray(0, 20), F), F, /runs past the end/);
  assertRefused(() => loadSafetensors(valid.subarray(0, valid.length - 1), F), F, /run past the end of the data buffer/);
});

test('refuses headers that are not a UTF-8 JSON object starting with {', () => {
  assertRefused(() => loadSafetensors(rawFile(''), F), F, /does not start with '\{'/);
  assertRefused(() => loadSafetensors(rawFile(' {}'), F), F, /does not start with '\{'/);
  assertRefused(() => loadSafetensors(rawFile('[1]'), F), F, /does not start with '\{'/);
  const bomHeader = new Uint8Array([0xef, 0xbb, 0xbf, ...encoder.encode('{}')]);
  assertRefused(() => loadSafetensors(rawFile(bomHeader), F), F, /does not start with '\{'/);
  const badUtf8 = rawFile('{"\u00e9":1}');
  badUtf8[11] = 0xff;
  assertRefused(() => loadSafetensors(badUtf8, F), F, /not valid UTF-8/);
  assertRefused(() => loadSafetensors(rawFile('{"a":'), F), F, /not valid JSON/);
  assertRefused(() => loadSafetensors(rawFile('{} x'), F), F, /trailing characters/);
  assertRefused(() => loadSafetensors(rawFile('{}\0\0'), F), F, /trailing characters/);
  assertRefused(() => loadSafetensors(rawFile(`{"a":${'['.repeat(200)}${']'.repeat(200)}}`), F), F, /nesting deeper/);
  assert.equal(loadSafetensors(rawFile('{}  \n\t ')).tensors.size, 0, 'trailing JSON whitespace is padding');
});

test('refuses duplicate keys and lone surrogates', () => {
  const entry = '{"dtype":"F32","shape":[1],"data_offsets":[0,4]}';
  assertRefused(() => loadSafetensors(rawFile(ok(`"w":${entry},"w":${entry}`), 4), F), F, /duplicate key "w"/);
  assertRefused(() => loadSafetensors(rawFile('{"__metadata__":{"a":"1","a":"2"}}'), F), F, /duplicate key "a"/);
  assertRefused(() => loadSafetensors(rawFile(ok(`"\\ud800":${entry}`), 4), F), F, /lone surrogate/);
});

test('refuses bad dtypes, shapes and offsets', () => {
  const t = (dtype: string, shape: string, offsets: string) => ok(`"w":{"dtype":${dtype},"shape":${shape},"data_offsets":${offsets}}`);
  assertRefused(() => loadSafetensors(rawFile(t('"F33"', '[1]', '[0,4]'), 4), F), F, /tensor "w": unknown dtype "F33"/);
  assertRefused(() => loadSafetensors(rawFile(t('"F8_E4M3"', '[1]', '[0,1]'), 1), F), F, /F8_E4M3 is not supported/);
  assertRefused(() => loadSafetensors(rawFile(t('32', '[1]', '[0,4]'), 4), F), F, /non-string "dtype"/);
  for (const badShape of ['[-1]', '[1.5]', '[1e0]', '["1"]', '[null]', '{}', '1', '[99999999999999999999]']) {
    assertRefused(() => loadSafetensors(rawFile(t('"F32"', badShape, '[0,4]'), 4), F), F, /tensor "w": .*shape/);
  }
  assertRefused(() => loadSafetensors(rawFile(ok('"w":{"dtype":"F32","data_offsets":[0,4]}'), 4), F), F, /"shape"/);
  for (const badOffsets of ['[0]', '[0,4,8]', '{}', 'null']) {
    assertRefused(() => loadSafetensors(rawFile(t('"F32"', '[1]', badOffsets), 4), F), F, /must be \[begin, end\]/);
  }
  assertRefused(() => loadSafetensors(rawFile(t('"F32"', '[1]', '[0,-4]'), 4), F), F, /non-negative integers/);
  assertRefused(() => loadSafetensors(rawFile(t('"F32"', '[1]', '[4,0]'), 4), F), F, /end before they begin/);
  assertRefused(() => loadSafetensors(rawFile(t('"F32"', '[1]', '[0,8]'), 4), F), F, /run past the end of the data buffer/);
  assertRefused(() => loadSafetensors(rawFile(t('"F32"', '[2]', '[0,4]'), 4), F), F, /hold 4 bytes but shape \[2\] of F32 needs 8/);
  assertRefused(() => loadSafetensors(rawFile(t('"F16"', '[3]', '[0,4]'), 4), F), F, /needs 6/);
  assertRefused(() => loadSafetensors(rawFile(t('"F32"', '[4294967296,4294967296,4294967296]', '[0,4]'), 4), F), F, /too large/);
  assertRefused(() => loadSafetensors(rawFile(ok('"w":[]'), 0), F), F, /entry is not an object/);
  assertRefused(() => loadSafetensors(rawFile('{"__metadata__":{"epoch":3}}'), F), F, /metadata value for "epoch" is not a string/);
  assertRefused(() => loadSafetensors(rawFile('{"__metadata__":[]}'), F), F, /"__metadata__" is not an object/);
  assert.deepEqual(loadSafetensors(rawFile('{"__metadata__":null}')).metadata, {});
});

test('requires the tensors to tile the data buffer exactly, like the reference parser', () => {
  const e = (name: string, begin: number, end: number) =>
    `"${name}":{"dtype":"U8","shape":[${end - begin}],"data_offsets":[${begin},${end}]}`;
  assertRefused(() => loadSafetensors(rawFile(ok(e('a', 0, 4) + ',' + e('b', 2, 6)), 6), F), F, /"b" \(bytes 2..6\) overlaps "a"/);
  assertRefused(() => loadSafetensors(rawFile(ok(e('a', 0, 4) + ',' + e('b', 0, 4)), 4), F), F, /overlaps/);
  assertRefused(() => loadSafetensors(rawFile(ok(e('a', 0, 2) + ',' + e('b', 4, 6)), 6), F), F, /hole in the data buffer: bytes 2..4/);
  assertRefused(() => loadSafetensors(rawFile(ok(e('a', 2, 4)), 4), F), F, /hole.*bytes 0..2/);
  assertRefused(() => loadSafetensors(rawFile(ok(e('a', 0, 4)), 5), F), F, /1 trailing bytes/);
  assertRefused(() => loadSafetensors(rawFile('{}', 1), F), F, /1 trailing bytes/);
  // Any order in the header is fine; zero-size tensors may share an offset.
  const out = loadSafetensors(rawFile(ok(e('b', 4, 6) + ',' + e('z', 4, 4) + ',' + e('a', 0, 4) + ',' + e('y', 4, 4)), 6));
  assert.deepEqual([...out.tensors.keys()], ['a', 'z', 'y', 'b']);
  // Unknown fields in a tensor entry are ignored, as serde does.
  assert.equal(loadSafetensors(rawFile(ok('"w":{"dtype":"U8","shape":[],"data_offsets":[0,1],"x":[{}]}'), 1)).tensors.size, 1);
});

test('converts every readable dtype to float32', () => {
  const data = new Uint8Array(8);
  const view = new DataView(data.buffer);
  const one = (dtype: string, size: number, write: () => void) => {
    data.fill(0);
    write();
    const file = rawFile(`{"x":{"dtype":"${dtype}","shape":[],"data_offsets":[0,${size}]}}`, data.subarray(0, size));
    return loadSafetensors(file).tensors.get('x')!.data[0];
  };
  assert.equal(
    one('F64', 8, () => view.setFloat64(0, 0.1, true)),
    Math.fround(0.1),
  );
  assert.equal(
    one('F16', 2, () => view.setUint16(0, 0x3c00, true)),
    1,
  );
  assert.equal(
    one('F16', 2, () => view.setUint16(0, 0x0001, true)),
    2 ** -24,
  );
  assert.equal(
    one('F16', 2, () => view.setUint16(0, 0xfc00, true)),
    -Infinity,
  );
  assert.ok(Number.isNaN(one('F16', 2, () => view.setUint16(0, 0x7e00, true))));
  assert.equal(
    one('BF16', 2, () => view.setUint16(0, 0xc049, true)),
    -3.140625,
  );
  assert.equal(
    one('I64', 8, () => view.setBigInt64(0, -7n, true)),
    -7,
  );
  assert.equal(
    one('I64', 8, () => view.setBigInt64(0, 2n ** 54n + 2n ** 30n + 1n, true)),
    2 ** 54 + 2 ** 31,
  );
  assert.equal(
    one('I64', 8, () => view.setBigInt64(0, 2n ** 54n + 2n ** 30n, true)),
    2 ** 54,
    'ties to even',
  );
  assert.equal(
    one('U64', 8, () => view.setBigUint64(0, 2n ** 64n - 1n, true)),
    2 ** 64,
  );
  assert.equal(
    one('I32', 4, () => view.setInt32(0, -123456, true)),
    -123456,
  );
  assert.equal(
    one('U32', 4, () => view.setUint32(0, 4e9, true)),
    Math.fround(4e9),
  );
  assert.equal(
    one('I16', 2, () => view.setInt16(0, -300, true)),
    -300,
  );
  assert.equal(
    one('U16', 2, () => view.setUint16(0, 60000, true)),
    60000,
  );
  assert.equal(
    one('I8', 1, () => view.setInt8(0, -100)),
    -100,
  );
  assert.equal(
    one('U8', 1, () => view.setUint8(0, 200)),
    200,
  );
  assert.equal(
    one('BOOL', 1, () => view.setUint8(0, 1)),
    1,
  );
});

test('saveSafetensors refuses inconsistent input, naming the tensor', () => {
  const f = new Float32Array(4);
  assert.throws(() => saveSafetensors({ w: { shape: [3], data: f } }), /tensor "w": shape \[3\] has 3 elements but data has 4/);
  assert.throws(() => saveSafetensors({ w: { shape: [-4], data: f } }), /tensor "w": shape must be/);
  assert.throws(() => saveSafetensors({ w: { shape: [4], data: [0, 0, 0, 0] as unknown as Float32Array } }), /Float32Array/);
  assert.throws(() => saveSafetensors({ __metadata__: { shape: [4], data: f } }), /reserved/);
  assert.throws(() => saveSafetensors({}, { epoch: 3 as unknown as string }), /metadata value for "epoch"/);
  assert.throws(() => saveSafetensors({ '\ud800': { shape: [4], data: f } }), /not valid Unicode/);
});

// ---------------------------------------------------------------------------
// Fuzzing: every input either parses to a consistent result or is refused
// with a SafetensorsError naming the file. A RangeError, TypeError or
// JsonSyntaxError escaping, or a hang, fails the property.

function checkParsesOrRefuses(bytes: Uint8Array): void {
  const name = 'fuzz.safetensors';
  let loaded: SafetensorsContents;
  try {
    loaded = loadSafetensors(bytes, name);
  } catch (err) {
    assert.ok(err instanceof SafetensorsError, `leaked ${(err as Error)?.name}: ${(err as Error)?.message}`);
    assert.ok(err.message.startsWith(`${name}: `) && err.reason.length > 0, err.message);
    return;
  }
  for (const [tensorName, t] of loaded.tensors) {
    assert.equal(t.data.length, product(t.shape), tensorName);
  }
  for (const v of Object.values(loaded.metadata)) assert.equal(typeof v, 'string');
}

const validFile = fc
  .tuple(fc.dictionary(tensorName, tensor, { minKeys: 1, maxKeys: 4 }), metadataRecord)
  .map(([t, m]) => saveSafetensors(t, m));

const FUZZ_RUNS = 2000;

test(`fuzz: arbitrary bytes parse or are refused with the file name (${FUZZ_RUNS} runs)`, () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 256 }), (b) => checkParsesOrRefuses(b)),
    { numRuns: FUZZ_RUNS },
  );
});

test(`fuzz: a plausible header length followed by arbitrary bytes (${FUZZ_RUNS} runs)`, () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 256 }), fc.nat(300), (rest, n) => {
      const bytes = new Uint8Array(8 + rest.length);
      new DataView(bytes.buffer).setBigUint64(0, BigInt(n), true);
      bytes.set(rest, 8);
      if (rest.length > 0) bytes[8] = 0x7b;
      checkParsesOrRefuses(bytes);
    }),
    { numRuns: FUZZ_RUNS },
  );
});

test(`fuzz: truncations of a valid file are refused (${FUZZ_RUNS} runs)`, () => {
  fc.assert(
    fc.property(validFile, fc.nat(), (bytes, cut) => {
      const truncated = bytes.subarray(0, cut % bytes.length);
      assertRefused(() => loadSafetensors(truncated, 'cut.safetensors'), 'cut.safetensors');
    }),
    { numRuns: FUZZ_RUNS },
  );
});

test(`fuzz: byte mutations, insertions and deletions of a valid file (${FUZZ_RUNS} runs)`, () => {
  const edit = fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }), kind: fc.constantFrom('set', 'insert', 'delete') });
  fc.assert(
    fc.property(validFile, fc.array(edit, { minLength: 1, maxLength: 4 }), (bytes, edits) => {
      const b = [...bytes];
      for (const { at, byte, kind } of edits) {
        const i = at % (b.length + 1);
        if (kind === 'set' && i < b.length) b[i] = byte;
        else if (kind === 'insert') b.splice(i, 0, byte);
        else if (kind === 'delete') b.splice(i, 1);
      }
      checkParsesOrRefuses(new Uint8Array(b));
    }),
    { numRuns: FUZZ_RUNS },
  );
});

test(`fuzz: structurally random headers (dtypes, shapes, offsets, metadata) (${FUZZ_RUNS} runs)`, () => {
  const integer = fc.oneof(fc.nat(40), fc.constantFrom(-1, 1.5, 2 ** 53, 2 ** 64, '3', null));
  const entry = fc.record(
    {
      dtype: fc.constantFrom('F32', 'F16', 'BF16', 'F64', 'I64', 'I32', 'U8', 'BOOL', 'F8_E5M2', 'X', 7),
      shape: fc.oneof(fc.array(integer, { maxLength: 3 }), fc.constant('nope')),
      data_offsets: fc.oneof(fc.tuple(integer, integer), fc.array(integer, { maxLength: 3 })),
    },
    { requiredKeys: [] },
  );
  const header = fc.dictionary(
    fc.oneof(fc.string({ maxLength: 4 }), fc.constant('__metadata__')),
    fc.oneof(entry, fc.dictionary(fc.string({ maxLength: 3 }), fc.oneof(fc.string(), fc.nat())), fc.jsonValue({ maxDepth: 2 })),
    { maxKeys: 4 },
  );
  fc.assert(
    fc.property(header, fc.nat(64), (h, dataLength) => checkParsesOrRefuses(rawFile(JSON.stringify(h), dataLength))),
    { numRuns: FUZZ_RUNS },
  );
});
