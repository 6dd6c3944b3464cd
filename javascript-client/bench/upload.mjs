// One timed upload of a file from disk, for benchmarks/client_throughput.py (which starts the
// servers and runs this once per measurement, so that each upload has a fresh process whose
// peak memory is its own). Prints one JSON line: the client, bytes, seconds, CPU seconds and
// peak RSS.
//
//   node bench/upload.mjs --client ours   --file F --base-url URL --field-id ID [--concurrency N]
//                         [--transport fetch]   (parts sent with fetch instead of the default)
//                         [--checksums off]     (checksums off: parts not hashed)
//   node bench/upload.mjs --client raw    --file F --url PRESIGNED_PUT_URL
//   node bench/upload.mjs --client legacy --file F --base-url URL --field-id ID --legacy-module PATH
//
// "ours" is this package's build (dist/, from `npm run build`); "raw" is one presigned PUT of the
// whole file, the physical baseline; "legacy" is the django-s3-file-field@1.1.0 npm client,
// imported from the path given (it is installed outside this package). For "ours", the JSON
// also gives the concurrency the upload ran with.
import { createReadStream, openAsBlob, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    client: { type: 'string' },
    file: { type: 'string' },
    'base-url': { type: 'string' },
    'field-id': { type: 'string' },
    url: { type: 'string' },
    'legacy-module': { type: 'string' },
    concurrency: { type: 'string' },
    transport: { type: 'string' },
    checksums: { type: 'string' },
  },
});

function required(name) {
  const value = args[name];
  if (!value) throw new Error(`--${name} is required for --client ${args.client}`);
  return value;
}

const fileName = 'bench.bin';
const contentType = 'application/octet-stream';
// Disk-backed: every client reads the file as it sends it, as it would a user's file.
const blob = await openAsBlob(required('file'));

/** The parts ours sends at once: as told, or the client's default. */
let concurrency;

/** Resolves once the upload is complete (or throws); everything it needs is set up before. */
async function makeUpload() {
  switch (args.client) {
    case 'ours': {
      const ours = await import(new URL('../dist/index.js', import.meta.url).href);
      if (args.transport !== undefined && args.transport !== 'fetch') throw new Error('--transport may only be fetch');
      concurrency = args.concurrency ? Number(args.concurrency) : ours.defaultNodeConcurrency;
      const client = new ours.S3FileFieldClient({
        baseUrl: required('base-url'),
        concurrency,
        ...(args.transport === 'fetch' ? { transport: ours.createFetchTransport() } : {}),
        checksums: args.checksums !== 'off',
      });
      // With a progress listener, as an app would have one.
      let reports = 0;
      return async () => {
        await client.upload(blob, required('field-id'), { fileName, contentType, onProgress: () => reports++ });
      };
    }
    case 'raw': {
      // The least work Node can do to send the file: node:http, the file piped from disk.
      const url = required('url');
      const { request } = await import('node:http');
      const path = required('file');
      return () =>
        new Promise((resolve, reject) => {
          const put = request(url, { method: 'PUT', headers: { 'Content-Length': String(blob.size) } }, (response) => {
            let text = '';
            response.on('data', (chunk) => {
              text += chunk;
            });
            response.on('end', () =>
              response.statusCode === 200
                ? resolve()
                : reject(new Error(`raw PUT answered ${response.statusCode}: ${text}`)),
            );
          });
          put.on('error', reject);
          createReadStream(path).on('error', reject).pipe(put);
        });
    }
    case 'legacy': {
      const module = await import(pathToFileURL(required('legacy-module')).href);
      const Client = module.default;
      const client = new Client({ baseUrl: required('base-url') });
      // 1.1.0 reads `name` and `type` of a File; a Blob from disk has no name.
      const file = Object.defineProperty(blob, 'name', { value: fileName });
      return async () => {
        await client.uploadFile(file, required('field-id'), () => {});
      };
    }
    default:
      throw new Error(`--client must be ours, raw or legacy, not ${args.client}`);
  }
}

/**
 * This process's peak resident set, in bytes. On Linux, VmHWM of /proc/self/status: the
 * ru_maxrss that `process.resourceUsage().maxRSS` gives is carried over from the parent
 * through fork and exec, so a benchmark process larger than Node would show as Node's peak.
 */
function peakRss() {
  try {
    const kib = /^VmHWM:\s*(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kib) return Number(kib) * 1024;
  } catch {
    // Not Linux: ru_maxrss is the best there is.
  }
  return process.resourceUsage().maxRSS * 1024;
}

const upload = await makeUpload();
const started = performance.now();
const cpuBefore = process.cpuUsage();
await upload();
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
// User + system time of the whole process (its libuv threads, which read the file, too).
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
const maxRssBytes = peakRss();
console.log(JSON.stringify({ client: args.client, bytes: blob.size, seconds, cpuSeconds, maxRssBytes, concurrency }));
