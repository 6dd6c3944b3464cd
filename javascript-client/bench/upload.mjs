// One timed upload of a file from disk, for benchmarks/client_throughput.py (which starts the
// servers and runs this once per measurement, so that each upload has a fresh process whose
// peak memory is its own). Prints one JSON line: the client, bytes, seconds, CPU seconds and
// peak RSS.
//
//   node bench/upload.mjs --client ours   --file F --base-url URL --field-id ID [--concurrency N]
//                         [--transport fetch]   (parts sent with fetch instead of the default)
//                         [--checksums off]     (checksums off: parts not hashed)
//                         [--adaptive off]      (all N parts at once from the start)
//   node bench/upload.mjs --client raw    --file F --url PRESIGNED_PUT_URL
//   node bench/upload.mjs --client legacy --file F --base-url URL --field-id ID --legacy-module PATH
//
// "ours" is this package's build (dist/, from `npm run build`); "raw" is one presigned PUT of the
// whole file, the physical baseline; "legacy" is the django-s3-file-field@1.1.0 npm client,
// imported from the path given (it is installed outside this package). For "ours", the JSON
// also gives the concurrency the upload ran with.
import { openAsBlob, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { peakRss } from './peak-rss.mjs';
import { rawPut } from './raw-put.mjs';

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
    adaptive: { type: 'string' },
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
/** Ours: each state its upload reported, with when it began (performance.now()). */
const phases = [];

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
        adaptiveConcurrency: args.adaptive !== 'off',
      });
      // With a progress listener, as an app would have one; it also times each state.
      return async () => {
        let state;
        const onProgress = (progress) => {
          if (progress.state === state) return;
          state = progress.state;
          phases.push([state, performance.now()]);
        };
        // The input the README recommends in Node: 1 MiB reads, hashed in place.
        const file = await ours.openFile(required('file'));
        await client.upload(file, required('field-id'), { fileName, contentType, onProgress });
      };
    }
    case 'raw': {
      const url = required('url');
      const path = required('file');
      return () => rawPut(url, path, blob.size);
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
 * Each core's time so far, in ticks: in all and idle (Linux's /proc/stat; null elsewhere).
 * Over an upload, how busy each core was: near 100 % on all, the CPU set the pace.
 */
function coreTicks() {
  try {
    return readFileSync('/proc/stat', 'utf8')
      .split('\n')
      .filter((line) => /^cpu\d/.test(line))
      .map((line) => {
        const ticks = line.split(/\s+/).slice(1).map(Number);
        return { all: ticks.reduce((sum, tick) => sum + tick, 0), idle: ticks[3] + ticks[4] };
      });
  } catch {
    return null;
  }
}

const upload = await makeUpload();
const ticksBefore = coreTicks();
const started = performance.now();
const cpuBefore = process.cpuUsage();
await upload();
const ticksAfter = coreTicks();
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
// User + system time of the whole process (its libuv threads, which read the file, too).
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
const maxRssBytes = peakRss();
const ended = started + seconds * 1000;
// Ours: the seconds spent in each state until the end (preparing, uploading, finalizing).
const phaseSeconds = Object.fromEntries(
  phases.map(([name, at], index) => [name, ((phases[index + 1]?.[1] ?? ended) - at) / 1000]),
);
console.log(
  JSON.stringify({
    client: args.client,
    bytes: blob.size,
    seconds,
    cpuSeconds,
    maxRssBytes,
    concurrency,
    phaseSeconds,
    coreBusy: ticksAfter?.map(
      (after, core) => 1 - (after.idle - ticksBefore[core].idle) / Math.max(1, after.all - ticksBefore[core].all),
    ),
  }),
);
