import { AtomicArrowFile } from './dist/node/atomic-arrow-file.js';
import { imageDatasetSchema } from './dist/schema.js';
import { imageRecordBatch } from './dist/record-batch.js';
const schema = imageDatasetSchema({ classes: ['a'], shape: [32,32,3], rows: 50000, sources: {} });
const f = new AtomicArrowFile('/tmp/r14/y.arrow', schema);
setTimeout(()=>{ console.log('still pending'); process.exit(3); }, 3000);
const n = Number(process.argv[2]);
for (let i = 0; i < n; i++) { f.write(imageRecordBatch(schema, new Uint8Array(10000*3072), new Uint8Array(10000))); await new Promise((r) => setTimeout(r, 200)); }
console.log('aborting');
await f.abort();
console.log('aborted'); process.exit(0);
