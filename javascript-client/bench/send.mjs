// One timed send of a file from disk to bench/sink.mjs, for benchmarks/client_cpu.py: what the
// client's part transport costs Node, with no store or Django to share the CPU with. Prints one
// JSON line: bytes, seconds, CPU seconds and peak RSS.
//
//   node bench/send.mjs --client raw  --file F --url URL
//   node bench/send.mjs --client ours --file F --url URL --concurrency N --part-size-mib M
//                       [--checksums crc32|md5-etag|off] [--source open-file|open-as-blob]
//   node bench/send.mjs --client md5  --file F
//
// "raw" pipes the file into one PUT (bench/raw-put.mjs): the least Node can do.
// "ours" sends the file in parts with this package's node:http transport (its build in dist/),
// N parts at once, from the package's openFile (1 MiB reads; the default) or a Blob of
// fs.openAsBlob (64 KiB reads). Checksums `crc32` (the default, as an upload
// to a store that verifies CRC32 does): each part is read and hashed (node:zlib's CRC32) before
// it is sent, for its URL to be signed for it; `md5-etag` (a store that verifies no CRC32):
// each part hashed (MD5) from the bytes the transport passes. "md5" sends nothing: it hashes as
// many bytes as the file has, 64 KiB at a time from memory, for what the hashing alone costs.
import { createHash } from 'node:crypto';
import { openAsBlob } from 'node:fs';
import { parseArgs } from 'node:util';
import { crc32 } from 'node:zlib';
import { peakRss } from './peak-rss.mjs';
import { rawPut } from './raw-put.mjs';

const { values: args } = parseArgs({
  options: {
    client: { type: 'string' },
    file: { type: 'string' },
    url: { type: 'string' },
    concurrency: { type: 'string', default: '4' },
    'part-size-mib': { type: 'string', default: '16' },
    checksums: { type: 'string', default: 'crc32' },
    source: { type: 'string', default: 'open-file' },
  },
});
if (!args.file || (!args.url && args.client !== 'md5')) throw new Error('--file and --url are required');
const { openFile } = await import(new URL('../dist/index.js', import.meta.url).href);
const blob = args.source === 'open-as-blob' ? await openAsBlob(args.file) : await openFile(args.file);

async function sendOurs() {
  const { createNodeHttpTransport } = await import(new URL('../dist/index.js', import.meta.url).href);
  const concurrency = Number(args.concurrency);
  const partSize = Number(args['part-size-mib']) * 1024 * 1024;
  const transport = createNodeHttpTransport({ maxSockets: concurrency });
  const signal = new AbortController().signal;
  let next = 0;
  const sendParts = async () => {
    // One hash buffer per sender, reused part after part, as the client's hashing does.
    const hashBuffer = new Uint8Array(1024 * 1024);
    for (let offset = next; offset < blob.size; offset = next) {
      next += partSize;
      if (args.checksums === 'crc32') await partCrc32(blob.slice(offset, offset + partSize), hashBuffer);
      const md5 = args.checksums === 'md5-etag' ? createHash('md5') : undefined;
      const response = await transport.put({
        url: args.url,
        body: blob.slice(offset, offset + partSize),
        headers: {},
        signal,
        onProgress: () => {},
        onBytes: md5 && ((piece) => md5.update(piece)),
      });
      if (response.status !== 200) throw new Error(`the sink answered ${response.status}`);
      md5?.digest();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, sendParts));
}

/**
 * A part's CRC32 as the client hashes it (src/checksums.ts, blobChecksum): an openFile Blob through
 * its piece reader into `buffer`, reused; any other Blob through its stream.
 */
async function partCrc32(slice, buffer) {
  let value = 0;
  const openReader = slice[Symbol.for('s3-file-field.openPieceReader')];
  if (openReader === undefined) {
    for await (const chunk of slice.stream()) value = crc32(chunk, value);
    return value;
  }
  const reader = await openReader.call(slice);
  try {
    for (let position = 0; position < slice.size; ) {
      const bytesRead = await reader.read(
        buffer.subarray(0, Math.min(buffer.byteLength, slice.size - position)),
        position,
      );
      value = crc32(buffer.subarray(0, bytesRead), value);
      position += bytesRead;
    }
  } finally {
    await reader.close();
  }
  return value;
}

async function hashOnly() {
  const piece = new Uint8Array(64 * 1024).map((_, index) => index * 31);
  const md5 = createHash('md5');
  for (let hashed = 0; hashed < blob.size; hashed += piece.byteLength) {
    md5.update(piece.subarray(0, Math.min(piece.byteLength, blob.size - hashed)));
  }
  md5.digest();
}

const send = { raw: () => rawPut(args.url, args.file, blob.size), ours: sendOurs, md5: hashOnly }[args.client];
if (!send) throw new Error(`--client must be raw, ours or md5, not ${args.client}`);
const started = performance.now();
const cpuBefore = process.cpuUsage();
await send();
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
console.log(
  JSON.stringify({ bytes: blob.size, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, maxRssBytes: peakRss() }),
);
