// Child process for test/io/files.test.ts: writes safetensors files to
// argv[2] with writeFileAtomic, so the parent can kill it mid-write or run it
// under a file-size limit.
//   once  N V   write one file of N float32 values equal to V, report the error
//   loop  N     rewrite the file forever, alternating values 1 and 2
import { saveSafetensorsFile } from '../../src/io/files.js';

const [target, mode, count, value] = process.argv.slice(2);
const file = (v: number) => ({ w: { shape: [Number(count)], data: new Float32Array(Number(count)).fill(v) } });

if (mode === 'once') {
  try {
    await saveSafetensorsFile(target, file(Number(value)));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(3);
  }
} else {
  process.stdout.write('ready\n');
  for (let i = 0; ; i++) await saveSafetensorsFile(target, file(1 + (i % 2)), { i: String(i) });
}
