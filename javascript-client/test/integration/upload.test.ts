/**
 * The client against the real stack: Django's upload API, SeaweedFS, and the
 * fault proxy in front of SeaweedFS (see stack.ts). Run by
 * tests/test_javascript_client.py, which afterwards checks the bucket itself.
 *
 * One file, so its tests run one after the other: they share the proxy's mode and counters.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createFetchTransport,
  MemoryResumeStore,
  openFile,
  type PartTransport,
  PartUploadError,
  type RetryInfo,
  type UploadProgress,
} from '../../src/index.js';
import {
  answerOf,
  eventually,
  MiB,
  makeFile,
  postApi,
  proxy,
  readBack,
  recordedClient,
  removeFiles,
  report,
  stack,
  sum,
  writeReport,
} from './stack.js';

const { partSize, fieldId } = stack;
// Real uploads of tens of MiB with retries: far above vitest's 5 s default.
const slow = { timeout: 120_000 };

/** Part numbers 1..count, as the proxy's counters name them. */
function partNumbers(count: number): string[] {
  return Array.from({ length: count }, (_, index) => String(index + 1));
}

beforeEach(async () => {
  await proxy.setMode({ mode: 'pass' });
  await proxy.reset();
});

afterAll(async () => {
  await proxy.setMode({ mode: 'pass' });
  await writeReport();
  await removeFiles();
});

describe('file sizes', () => {
  it.each([
    { label: '0 bytes', size: 0 },
    { label: '1 byte', size: 1 },
    { label: 'exactly one part', size: partSize },
    { label: 'one part + 1 byte', size: partSize + 1 },
    { label: 'many parts', size: 6 * partSize + 12_345 },
  ])('uploads $label and reads the same bytes back', slow, async ({ size }) => {
    const file = await makeFile(size);
    const { client, calls } = recordedClient({ concurrency: 4 });
    const progress: UploadProgress[] = [];

    const result = await client.upload(file.blob, fieldId, {
      fileName: file.name,
      onProgress: (event) => progress.push(event),
    });

    expect(result.fileSize).toBe(size);
    const prepared = answerOf(calls, 'upload-prepare/');
    const partCount = Math.max(1, Math.ceil(size / partSize));
    expect(prepared.part_count).toBe(partCount);
    // Checksums are on by default: SeaweedFS verifies CRC32, so every part is signed for
    // its own, and the store keeps a CRC32 of the whole file.
    expect(prepared.checksum).toBe('crc32');
    expect(result.checksum).toEqual({ algorithm: 'crc32', value: file.crc32, type: 'FULL_OBJECT' });
    const stats = await proxy.stats();
    if (size <= partSize) {
      // One presigned PUT, no multipart upload.
      expect(prepared.upload_id).toBeNull();
      expect(stats.part_puts).toEqual({ '0': 1 });
    } else {
      expect(prepared.upload_id).toEqual(expect.any(String));
      expect(Object.keys(stats.part_puts).sort()).toEqual(partNumbers(partCount).sort());
      expect(Object.values(stats.part_puts).every((count) => count === 1)).toBe(true);
      // Part URLs beyond upload-prepare/'s first batch come from upload-parts/.
      const firstBatch = (prepared.parts as unknown[]).length;
      if (firstBatch < partCount) expect(calls.some((c) => c.endpoint === 'upload-parts/')).toBe(true);
    }
    expect(progress.at(-1)).toMatchObject({ state: 'done', uploaded: size, total: size });

    expect(await readBack(result.fieldValue)).toEqual({ size, sha256: file.sha256 });
    report.completed.push({ objectKey: result.objectKey, size, sha256: file.sha256 });
  });
});

describe('a file opened with openFile', () => {
  it('uploads in 1 MiB reads with every part signed for its CRC32', slow, async () => {
    const file = await makeFile(3 * partSize + 777);
    const { client } = recordedClient({});

    const result = await client.upload(await openFile(file.path), fieldId);

    expect(result.checksum).toEqual({ algorithm: 'crc32', value: file.crc32, type: 'FULL_OBJECT' });
    expect(await readBack(result.fieldValue)).toEqual({ size: file.size, sha256: file.sha256 });
    report.completed.push({ objectKey: result.objectKey, size: file.size, sha256: file.sha256 });
  });
});

describe('a store that fails 30 % of part PUTs (500s and connection resets)', () => {
  it.each([
    { label: 'a single PUT', size: 3 * MiB },
    { label: 'a multipart upload', size: 8 * partSize + 4321 },
  ])('completes $label with the same bytes', slow, async ({ size }) => {
    const file = await makeFile(size);
    // Seeded: the proxy's draws are the same on every run (this seed fails both cases, both ways).
    await proxy.setMode({ mode: 'fail', rate: 0.3, seed: 14, kinds: ['500', 'reset'] });
    const retries: RetryInfo[] = [];
    const { client } = recordedClient({ retries: 10, onRetry: (info) => retries.push(info) });

    const result = await client.upload(file.blob, fieldId, { fileName: file.name });

    const stats = await proxy.stats();
    await proxy.setMode({ mode: 'pass' });
    const faults = sum(stats.faults);
    expect(stats.faults['500']).toBeGreaterThan(0);
    expect(stats.faults.reset).toBeGreaterThan(0);
    // Every injected fault was seen by the client and retried, and nothing else was.
    expect(retries.filter((retry) => retry.operation.startsWith('part ')).length).toBe(faults);
    const partCount = Math.max(1, Math.ceil(size / partSize));
    expect(sum(stats.part_puts)).toBe(partCount + faults);

    expect(await readBack(result.fieldValue)).toEqual({ size, sha256: file.sha256 });
    report.completed.push({ objectKey: result.objectKey, size, sha256: file.sha256 });
  });
});

describe('a part corrupted on the way', () => {
  it('is refused by the store for its CRC32, and sent again', slow, async () => {
    const file = await makeFile(3 * partSize + 17);
    // One part at a time, so the seeded draws fall on the same PUTs on every run.
    await proxy.setMode({ mode: 'fail', rate: 0.5, seed: 3, kinds: ['corrupt'] });
    const retries: RetryInfo[] = [];
    const { client } = recordedClient({ concurrency: 1, retries: 10, onRetry: (info) => retries.push(info) });

    const result = await client.upload(file.blob, fieldId, { fileName: file.name });

    const stats = await proxy.stats();
    expect(stats.faults.corrupt).toBeGreaterThan(0);
    expect(retries).toHaveLength(stats.faults.corrupt ?? 0);
    // Every part's URL is signed for its CRC32: the store itself refuses each altered one.
    for (const retry of retries) {
      expect(retry.error).toMatchObject({ status: 400, storeCode: 'BadDigest' });
    }
    expect(await readBack(result.fieldValue)).toEqual({ size: file.size, sha256: file.sha256 });
    report.completed.push({ objectKey: result.objectKey, size: file.size, sha256: file.sha256 });
  });

  it('fails the upload loudly when it keeps arriving corrupted, and leaves nothing behind', slow, async () => {
    const file = await makeFile(partSize + 1);
    await proxy.setMode({ mode: 'fail', rate: 1, seed: 1, kinds: ['corrupt'] });
    const { client, calls } = recordedClient({ retries: 2 });

    const error = await client.upload(file.blob, fieldId, { fileName: file.name }).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PartUploadError);
    expect(error).toMatchObject({ status: 400, storeCode: 'BadDigest' });
    expect(calls.some((c) => c.endpoint === 'upload-finalize/')).toBe(false);
    const prepared = answerOf(calls, 'upload-prepare/');
    report.aborted.push({ objectKey: String(prepared.object_key), uploadId: String(prepared.upload_id) });
  });

  it('would be stored as it arrived without checksums', slow, async () => {
    const file = await makeFile(MiB);
    await proxy.setMode({ mode: 'fail', rate: 1, seed: 1, kinds: ['corrupt'] });
    const { client } = recordedClient({ checksums: false });

    const result = await client.upload(file.blob, fieldId, { fileName: file.name });

    const stored = await readBack(result.fieldValue);
    expect(stored.size).toBe(file.size);
    expect(stored.sha256).not.toBe(file.sha256);
  });
});

describe('100 uploads through a store that fails 20 % of part PUTs in every way', () => {
  it('completes all of them with the same bytes', { timeout: 300_000 }, async () => {
    const sizes = [0, 1, 1000, 64 * 1024, 256 * 1024 + 7, MiB, 2 * MiB + 3, partSize, partSize + 1, 2 * partSize + 5];
    const files = await Promise.all(sizes.map((size) => makeFile(size)));
    const kinds = ['500', '503', 'reset', 'stall', 'corrupt'] as const;
    await proxy.setMode({ mode: 'fail', rate: 0.2, seed: 20, kinds: [...kinds] });
    const retries: RetryInfo[] = [];
    // A stalled part is given up after 2 s. Ten retries: a part fails 11 times in a row
    // with a chance of 0.2^11, so no upload of the 100 is lost to bad luck.
    const { client } = recordedClient({
      concurrency: 4,
      retries: 10,
      stallTimeoutMs: 2000,
      onRetry: (info) => retries.push(info),
    });
    const queue = Array.from({ length: 100 }, (_, index) => files[index % files.length] as (typeof files)[number]);
    const results: { objectKey: string; fieldValue: string; size: number; sha256: string }[] = [];
    const uploadNext = async (): Promise<void> => {
      for (let file = queue.shift(); file; file = queue.shift()) {
        const result = await client.upload(file.blob, fieldId, { fileName: file.name });
        results.push({ ...result, size: file.size, sha256: file.sha256 });
      }
    };

    await Promise.all(Array.from({ length: 5 }, uploadNext));

    const stats = await proxy.stats();
    await proxy.setMode({ mode: 'pass' });
    expect(results).toHaveLength(100);
    expect(new Set(results.map((result) => result.objectKey)).size).toBe(100);
    for (const kind of kinds) expect(stats.faults[kind]).toBeGreaterThan(0);
    const faults = sum(stats.faults);
    expect(faults / sum(stats.part_puts)).toBeGreaterThan(0.1);
    // Every fault was met by a retry of its part. On a busy machine a slow answer (to a
    // fault or not) may be taken for a stall first: any retry beyond the faults is one.
    const partRetries = retries.filter((retry) => retry.operation.startsWith('part '));
    const stallRetries = partRetries.filter((retry) => /stalled/.test(retry.error.message));
    expect(partRetries.length).toBeGreaterThanOrEqual(faults);
    expect(partRetries.length - faults).toBeLessThanOrEqual(stallRetries.length);
    expect(stallRetries.length).toBeGreaterThanOrEqual(stats.faults.stall ?? 0);
    for (const result of results) {
      expect(await readBack(result.fieldValue)).toEqual({ size: result.size, sha256: result.sha256 });
      report.completed.push({ objectKey: result.objectKey, size: result.size, sha256: result.sha256 });
    }
    console.log(
      `100 uploads, ${sum(stats.part_puts)} part PUTs, ${faults} faults ${JSON.stringify(stats.faults)}, ` +
        `${retries.length} retries`,
    );
  });
});

describe('abort', () => {
  it('stops mid-upload and leaves no multipart upload behind', slow, async () => {
    const file = await makeFile(6 * partSize);
    // Parts of 5 MiB take ~0.25 s each: others are surely in flight when the first lands.
    await proxy.setMode({ mode: 'throttle', bytes_per_second: 20e6 });
    const controller = new AbortController();
    const fetchTransport = createFetchTransport();
    let landed = 0;
    const transport: PartTransport = {
      async put(request) {
        const response = await fetchTransport.put(request);
        if (response.status === 200 && ++landed === 1) controller.abort(new Error('cancelled by the test'));
        return response;
      },
    };
    const { client, calls } = recordedClient({ transport, concurrency: 2 });

    await expect(
      client.upload(file.blob, fieldId, { fileName: file.name, signal: controller.signal }),
    ).rejects.toMatchObject({ name: 'AbortError', code: 'aborted' });

    const prepared = answerOf(calls, 'upload-prepare/');
    expect(prepared.upload_id).toEqual(expect.any(String));
    report.aborted.push({ objectKey: String(prepared.object_key), uploadId: String(prepared.upload_id) });
    // upload-abort/ is sent without waiting for it: the store forgets the upload shortly after.
    // The store may forget it before the client has read upload-abort/'s answer.
    await eventually(async () => {
      const status = await postApi('upload-status/', { upload_signature: prepared.upload_signature });
      expect(status.status).toBe(400);
      expect(JSON.stringify(status.json)).toMatch(/no such multipart upload/i);
      expect(calls.filter((c) => c.endpoint === 'upload-abort/').map((c) => c.status)).toEqual([204]);
    });
    expect(calls.some((c) => c.endpoint === 'upload-finalize/')).toBe(false);
    const stats = await proxy.stats();
    expect(stats.operations.AbortMultipartUpload).toBe(1);
    expect(sum(stats.part_puts)).toBeLessThan(6);
  });
});

describe('resume', () => {
  it('after a dropped connection, sends only the parts the store lacks', slow, async () => {
    const partCount = 8;
    const file = await makeFile((partCount - 1) * partSize + 99);
    const resume = new MemoryResumeStore();

    // First try: the network goes down for good once 3 parts have landed. One part at a
    // time, so that no part is on its way when it does: a PUT the client gave up on after
    // sending its last byte may still land in the store, and the held parts would be a race.
    const fetchTransport = createFetchTransport();
    let landed = 0;
    const dropping: PartTransport = {
      async put(request) {
        if (landed >= 3) throw new TypeError('fetch failed (the test cut the network)');
        const response = await fetchTransport.put(request);
        if (response.status === 200) landed++;
        return response;
      },
    };
    const first = recordedClient({ transport: dropping, resume, retries: 1, concurrency: 1 });
    await expect(first.client.upload(file.blob, fieldId, { fileName: file.name })).rejects.toMatchObject({
      name: 'PartNetworkError',
      code: 'network',
    });
    // A transient failure of a resumable upload keeps its parts on the server.
    expect(first.calls.some((c) => c.endpoint === 'upload-abort/')).toBe(false);
    const prepared = answerOf(first.calls, 'upload-prepare/');
    const status = await postApi('upload-status/', { upload_signature: prepared.upload_signature });
    expect(status.status).toBe(200);
    const held = (status.json as { parts: { part_number: number }[] }).parts.map((p) => String(p.part_number));
    expect(held).toEqual(['1', '2', '3']);
    const missing = partNumbers(partCount).slice(3);

    // Second try, same file, same resume store, the network back.
    await proxy.reset();
    const second = recordedClient({ resume });
    const result = await second.client.upload(file.blob, fieldId, { fileName: file.name });

    const stats = await proxy.stats();
    expect(Object.keys(stats.part_puts).sort()).toEqual(missing);
    expect(Object.values(stats.part_puts).every((count) => count === 1)).toBe(true);
    expect(second.calls.map((c) => c.endpoint)).not.toContain('upload-prepare/');
    expect(second.calls[0]?.endpoint).toBe('upload-status/');
    expect(result.objectKey).toBe(prepared.object_key);

    expect(await readBack(result.fieldValue)).toEqual({ size: file.size, sha256: file.sha256 });
    report.completed.push({ objectKey: result.objectKey, size: file.size, sha256: file.sha256 });
  });
});
