// Pieces shared by the WGSL kernels: the binding layout every kernel follows
// (binding 0: its uniform parameters; 1..n: storage buffers in argument order)
// and the flat index of a 1-D launch spread over a 2-D grid of 256-wide
// workgroups (one dimension holds at most 65535 workgroups).
export const WG = 256;

/** `struct P` from field names: u32 fields first, then f32 fields (the order the backend writes them). */
export function paramsStruct(u32s: string[], f32s: string[] = []): string {
  const fields = [...u32s.map((f) => `${f}: u32`), ...f32s.map((f) => `${f}: f32`)];
  if (fields.length === 0) fields.push('unused: u32');
  return `struct P { ${fields.join(', ')} }\n@group(0) @binding(0) var<uniform> p: P;\n`;
}

/** Storage bindings 1..n, all read_write so that one buffer may be passed as two arguments (in-place ops). */
export function buffers(names: string[], types: Record<string, string> = {}): string {
  return names.map((name, i) => `@group(0) @binding(${i + 1}) var<storage, read_write> ${name}: array<${types[name] ?? 'f32'}>;`).join('\n') + '\n';
}

export const FLAT_MAIN = `@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * ${WG}u + lid;`;

/** A kernel with one invocation per element i < p.n. */
export function elementwise(u32s: string[], f32s: string[], names: string[], body: string, types: Record<string, string> = {}): string {
  return `${paramsStruct(['n', ...u32s], f32s)}${buffers(names, types)}${FLAT_MAIN}
  if (i >= p.n) { return; }
  ${body}
}`;
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
