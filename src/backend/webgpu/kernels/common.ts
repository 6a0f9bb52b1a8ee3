// Pieces shared by the WGSL kernels: the binding layout every kernel follows
// (binding 0: its uniform parameters; 1..n: storage buffers in argument order)
// and the flat index of a 1-D launch spread over a 2-D grid of 256-wide
// workgroups (one dimension holds at most 65535 workgroups).
export const WG = 256;

/**
 * A uniform parameter: a u32 or an f32, or an array of `count` of them
 * (count a multiple of 4, laid out as vec4 rows: array<vec4<T>, count / 4>).
 */
export interface UniformField {
  name: string;
  type: 'u32' | 'f32';
  count?: number;
}

/**
 * A kernel: its uniform parameters and storage buffers, each declared once,
 * and its WGSL, whose `struct P` and bindings are generated from them. The
 * backend packs the uniforms by name from the same declaration (packUniforms)
 * and binds storages by name in `buffers` order.
 */
export interface WgslKernel {
  uniforms: UniformField[];
  buffers: string[];
  code: string;
}

export const u32 = (...names: string[]): UniformField[] => names.map((name) => ({ name, type: 'u32' }));
export const f32 = (...names: string[]): UniformField[] => names.map((name) => ({ name, type: 'f32' }));

/** Word offsets of the fields under WGSL's uniform layout: scalars packed, vec4 arrays 16-byte aligned. */
export function uniformLayout(fields: UniformField[]): { field: UniformField; offset: number }[] {
  let words = 0;
  return fields.map((field) => {
    if (field.count !== undefined) {
      if (field.count % 4 !== 0) throw new Error(`uniform ${field.name}: array length ${field.count} is not a multiple of 4`);
      words = Math.ceil(words / 4) * 4;
    }
    const offset = words;
    words += field.count ?? 1;
    return { field, offset };
  });
}

/** `struct P` and its binding from the fields. */
export function uniformStruct(fields: UniformField[]): string {
  const decl = fields.map((f) => `${f.name}: ${f.count === undefined ? f.type : `array<vec4<${f.type}>, ${f.count / 4}>`}`);
  if (decl.length === 0) decl.push('unused: u32');
  return `struct P { ${decl.join(', ')} }\n@group(0) @binding(0) var<uniform> p: P;\n`;
}

/**
 * The uniform words of one call, by field name: every declared field must be
 * given (u32s as non-negative integers, arrays at most `count` long, the rest
 * zeros) and nothing else.
 */
export function packUniforms(kernel: string, fields: UniformField[], values: Record<string, number | readonly number[]>): ArrayBuffer {
  const layout = uniformLayout(fields);
  const end = layout.reduce((m, { field, offset }) => Math.max(m, offset + (field.count ?? 1)), 1);
  const out = new ArrayBuffer(4 * end);
  const asU32 = new Uint32Array(out);
  const asF32 = new Float32Array(out);
  for (const name of Object.keys(values)) {
    if (!fields.some((f) => f.name === name)) throw new Error(`wasmtail: WebGPU kernel ${kernel} has no uniform ${name}`);
  }
  for (const { field, offset } of layout) {
    const v = values[field.name];
    if (v === undefined) throw new Error(`wasmtail: WebGPU kernel ${kernel}: uniform ${field.name} not given`);
    const list = typeof v === 'number' ? [v] : v;
    if (list.length > (field.count ?? 1))
      throw new Error(`wasmtail: WebGPU kernel ${kernel}: ${list.length} values for uniform ${field.name}[${field.count ?? 1}]`);
    list.forEach((x, i) => {
      if (field.type === 'u32') {
        if (!Number.isInteger(x) || x < 0 || x > 0xffffffff)
          throw new Error(`wasmtail: WebGPU kernel ${kernel}: uniform ${field.name} = ${x} is not a u32`);
        asU32[offset + i] = x;
      } else {
        asF32[offset + i] = x;
      }
    });
  }
  return out;
}

/** A kernel from its declarations and the WGSL after the bindings. */
export function kernel(uniforms: UniformField[], names: string[], body: string, types: Record<string, string> = {}): WgslKernel {
  return { uniforms, buffers: names, code: `${uniformStruct(uniforms)}${buffers(names, types)}${body}` };
}

/** Storage bindings 1..n (names in order), all read_write so that one buffer may be passed as two arguments (in-place ops). */
function buffers(names: string[], types: Record<string, string> = {}): string {
  return (
    names.map((name, i) => `@group(0) @binding(${i + 1}) var<storage, read_write> ${name}: array<${types[name] ?? 'f32'}>;`).join('\n') +
    '\n'
  );
}

export const FLAT_MAIN = `@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * ${WG}u + lid;`;

/** A kernel with one invocation per element i < p.n. */
export function elementwise(u32s: string[], f32s: string[], names: string[], body: string, types: Record<string, string> = {}): WgslKernel {
  return kernel(
    [...u32('n', ...u32s), ...f32(...f32s)],
    names,
    `${FLAT_MAIN}
  if (i >= p.n) { return; }
  ${body}
}`,
    types,
  );
}

/** Tree sum over one workgroup; call from uniform control flow. */
export const WORKGROUP_SUM = `var<workgroup> red: array<f32, ${WG}>;
fn workgroupSum(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (lid < s) { red[lid] = red[lid] + red[lid + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}
`;
