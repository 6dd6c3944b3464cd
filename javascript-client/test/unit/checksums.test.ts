import { createHash } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { PartChecksums } from '../../src/checksums.js';
import {
  PartChecksumError,
  PartNetworkError,
  type PartTransport,
  PartUploadError,
  type RetryInfo,
} from '../../src/index.js';
import { planParts } from '../../src/plan.js';
import { clientFor } from '../support/client.js';
import { digestOf, FakeStack, fileBytes, knownFieldId, makeFile } from '../support/fake-stack.js';

const MiB = 1024 * 1024;
/** A store that verifies MD5 alone (Backblaze B2), or a server that offers no CRC32. */
const md5Only = { checksumAlgorithms: ['md5'] } as const;

function md5(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('base64');
}

async function partMd5s(file: Blob, partSize: number): Promise<string[]> {
  const bytes = await fileBytes(file);
  const md5s: string[] = [];
  for (let offset = 0; offset < Math.max(bytes.length, 1); offset += partSize) {
    md5s.push(md5(bytes.subarray(offset, offset + partSize)));
  }
  return md5s;
}

function partMd5Headers(stack: FakeStack): Map<number, (string | undefined)[]> {
  const sent = new Map<number, (string | undefined)[]>();
  for (const put of stack.partPuts)
    sent.set(put.partNumber, [...(sent.get(put.partNumber) ?? []), put.headers['Content-MD5']]);
  return sent;
}

describe('CRC32 checksums, where the store verifies them (the default)', () => {
  async function partCrcs(file: Blob, partSize: number): Promise<string[]> {
    const bytes = await fileBytes(file);
    const sums: string[] = [];
    for (let offset = 0; offset < Math.max(bytes.length, 1); offset += partSize) {
      sums.push(digestOf('crc32', bytes.subarray(offset, offset + partSize)));
    }
    return sums;
  }

  it("signs every part for its CRC32, sends it along, and gets the whole file's from finalize", async () => {
    const stack = new FakeStack({ partSize: 10 });
    const file = makeFile(95);

    const result = await clientFor(stack, { checksums: true, concurrency: 3 }).upload(file, knownFieldId);

    expect(stack.storedBytes(stack.onlyUpload().signature)).toEqual(await fileBytes(file));
    const expected = await partCrcs(file, 10);
    expect(stack.callsTo('upload-prepare/')).toHaveLength(1);
    expect(stack.partPuts).toHaveLength(10);
    for (const put of stack.partPuts) {
      expect(put.headers).toEqual({ 'x-amz-checksum-crc32': expected[put.partNumber - 1] });
    }
    const finalized = stack.callsTo('upload-finalize/')[0]?.body.parts as { checksum: string }[];
    expect(finalized.map((part) => part.checksum)).toEqual(expected);
    expect(result.checksum).toEqual({
      algorithm: 'crc32',
      value: digestOf('crc32', await fileBytes(file)),
      type: 'FULL_OBJECT',
    });
  });

  it("sends a small file's CRC32 with upload-prepare/: no upload-parts/ call", async () => {
    const stack = new FakeStack({ partSize: 16 * MiB });
    const file = makeFile(1000);

    await clientFor(stack, { checksums: true }).uploadFile(file, knownFieldId, { contentType: 'text/plain' });

    const [checksum] = await partCrcs(file, 16 * MiB);
    expect(stack.callsTo('upload-prepare/')[0]?.body).toMatchObject({
      checksum_algorithms: ['crc32'],
      part_checksums: [{ part_number: 1, checksum }],
    });
    expect(stack.callsTo('upload-parts/')).toHaveLength(0);
    expect(stack.partPuts.map((put) => put.headers)).toEqual([
      { 'Content-Type': 'text/plain', 'If-None-Match': '*', 'x-amz-checksum-crc32': checksum },
    ]);
  });

  it("hashes a 0-byte file as CRC32('')", async () => {
    const stack = new FakeStack({ partSize: 16 * MiB });
    await clientFor(stack, { checksums: true }).uploadFile(makeFile(0), knownFieldId);
    expect(stack.partPuts[0]?.headers['x-amz-checksum-crc32']).toBe('AAAAAA==');
  });

  it('sends again a part the store refused as corrupted', async () => {
    const stack = new FakeStack({ partSize: 10 });
    const file = makeFile(35);
    stack.failPart(2, 'corrupt');
    const retries: RetryInfo[] = [];

    await clientFor(stack, { checksums: true, onRetry: (info) => retries.push(info) }).uploadFile(file, knownFieldId);

    expect(stack.putsOf(2)).toHaveLength(2);
    expect(retries.map((retry) => retry.error)).toMatchObject([{ partNumber: 2, status: 400, storeCode: 'BadDigest' }]);
    expect(stack.storedBytes(stack.onlyUpload().signature)).toEqual(await fileBytes(file));
  });

  it('goes on with CRC32 after a dropped connection', async () => {
    const stack = new FakeStack({ partSize: 10 });
    const client = clientFor(stack, { checksums: true, resume: true, retries: 0, concurrency: 1 });
    const file = makeFile(45);
    stack.failPart(3, 'network');
    await expect(client.uploadFile(file, knownFieldId)).rejects.toBeInstanceOf(PartNetworkError);
    const putsBefore = stack.partPuts.length;

    await client.uploadFile(file, knownFieldId);

    const resent = stack.partPuts.slice(putsBefore);
    expect(resent.map((put) => put.headers['x-amz-checksum-crc32'])).toEqual((await partCrcs(file, 10)).slice(2));
    expect(stack.storedBytes('sig-1')).toEqual(await fileBytes(file));
  });
});

describe('checksums checked by ETag, where the store verifies no CRC32', () => {
  it('hashes each part while it is sent: no Content-MD5, no upload-parts/ call more', async () => {
    const stack = new FakeStack({ partSize: 10, ...md5Only });
    const file = makeFile(95);
    const retries: RetryInfo[] = [];

    await clientFor(stack, { checksums: true, concurrency: 3, onRetry: (info) => retries.push(info) }).uploadFile(
      file,
      knownFieldId,
    );

    expect(stack.storedBytes(stack.onlyUpload().signature)).toEqual(await fileBytes(file));
    expect(stack.callsTo('upload-prepare/')).toHaveLength(1);
    expect(stack.callsTo('upload-prepare/')[0]?.body).toMatchObject({ checksum_algorithms: ['crc32'] });
    expect(stack.callsTo('upload-parts/')).toHaveLength(0);
    expect(stack.partPuts).toHaveLength(10);
    expect(stack.partPuts.every((put) => !('Content-MD5' in put.headers))).toBe(true);
    expect(retries).toEqual([]);
  });

  it('sends again, for the store to check, a part whose ETag is not its MD5', async () => {
    const stack = new FakeStack({ partSize: 10, ...md5Only });
    const file = makeFile(35);
    stack.failPart(2, 'corrupt');
    const retries: RetryInfo[] = [];

    await clientFor(stack, { checksums: true, onRetry: (info) => retries.push(info) }).uploadFile(file, knownFieldId);

    const expected = await partMd5s(file, 10);
    expect(partMd5Headers(stack).get(2)).toEqual([undefined, expected[1]]);
    expect(retries).toHaveLength(1);
    expect(retries[0]?.error).toBeInstanceOf(PartChecksumError);
    expect(retries[0]?.error).toMatchObject({ partNumber: 2, code: 'checksum', contentMd5: expected[1] });
    expect(stack.callsTo('upload-parts/').map((call) => call.body.part_checksums)).toEqual([
      [{ part_number: 2, checksum: expected[1] }],
    ]);
    expect(stack.storedBytes(stack.onlyUpload().signature)).toEqual(await fileBytes(file));
  });

  it('hashes the bytes a transport passes, without reading the part again', async () => {
    const stack = new FakeStack({ partSize: 10, ...md5Only });
    const file = makeFile(35);
    // Passes part 2's bytes altered: only a hash of what was passed can mismatch.
    const passing: PartTransport = {
      passesBytes: true,
      async put(request) {
        const bytes = new Uint8Array(await request.body.arrayBuffer());
        const partNumber = new URL(request.url).searchParams.get('part');
        if (partNumber === '2' && !('Content-MD5' in request.headers)) bytes[0] = (bytes[0] as number) ^ 0xff;
        request.onBytes?.(bytes);
        return stack.transport.put(request);
      },
    };
    const retries: RetryInfo[] = [];

    await clientFor(stack, { checksums: true, transport: passing, onRetry: (info) => retries.push(info) }).uploadFile(
      file,
      knownFieldId,
    );

    expect(retries.map((retry) => retry.error)).toMatchObject([{ partNumber: 2, code: 'checksum' }]);
    expect(partMd5Headers(stack).get(2)).toEqual([undefined, (await partMd5s(file, 10))[1]]);
    expect(stack.storedBytes(stack.onlyUpload().signature)).toEqual(await fileBytes(file));
  });

  it('has the store check a single PUT: one stored altered could not be sent again', async () => {
    const stack = new FakeStack({ partSize: 16 * MiB, ...md5Only });
    const file = makeFile(1000);
    stack.failPart(1, 'corrupt');

    await clientFor(stack, { checksums: true }).uploadFile(file, knownFieldId, { contentType: 'text/plain' });

    const [checksum] = await partMd5s(file, 16 * MiB);
    const signed = { 'Content-Type': 'text/plain', 'If-None-Match': '*', 'Content-MD5': checksum };
    // Refused altered (BadDigest), then stored.
    expect(stack.partPuts.map((put) => put.headers)).toEqual([signed, signed]);
    expect(stack.storedBytes(stack.onlyUpload().signature)).toEqual(await fileBytes(file));
  });

  it('finds a single PUT stored when its answer was lost, and finishes', async () => {
    const stack = new FakeStack({ partSize: 16 * MiB, ...md5Only });
    const file = makeFile(1000);
    stack.failPart(1, 'lost');

    await clientFor(stack, { checksums: true }).uploadFile(file, knownFieldId);

    // The second PUT met the stored object (412); upload-status told it was this part.
    expect(stack.putsOf(1)).toHaveLength(2);
    expect(stack.callsTo('upload-status/')).toHaveLength(1);
    expect(stack.callsTo('upload-finalize/')).toHaveLength(1);
    expect(stack.storedBytes(stack.onlyUpload().signature)).toEqual(await fileBytes(file));
  });

  it('finds a single PUT stored when its answer was lost and its URL expired, and finishes', async () => {
    const stack = new FakeStack({ partSize: 16 * MiB, ...md5Only });
    const file = makeFile(1000);
    stack.failPart(1, 'lost');
    const expiring: PartTransport = {
      async put(request) {
        // The lost answer took so long that the URL expired meanwhile.
        if (stack.putsOf(1).length === 1) stack.expireUrls();
        return stack.transport.put(request);
      },
    };

    await clientFor(stack, { transport: expiring }).uploadFile(file, knownFieldId);

    // The retry's URL was refused (403); upload-parts/ signed nothing (409); upload-status/ found it.
    expect(stack.putsOf(1)).toHaveLength(2);
    expect(stack.callsTo('upload-parts/')).toHaveLength(1);
    expect(stack.callsTo('upload-status/')).toHaveLength(1);
    expect(stack.callsTo('upload-finalize/')).toHaveLength(1);
    expect(stack.storedBytes(stack.onlyUpload().signature)).toEqual(await fileBytes(file));
  });

  it('fails loudly when a part keeps arriving corrupted', async () => {
    const stack = new FakeStack({ partSize: 10, ...md5Only });
    stack.failPart(3, 'corrupt', 'corrupt', 'corrupt');

    const error = await clientFor(stack, { checksums: true, retries: 2 })
      .uploadFile(makeFile(35), knownFieldId)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PartUploadError);
    expect(error).toMatchObject({ partNumber: 3, status: 400, storeCode: 'BadDigest' });
    expect(stack.putsOf(3)).toHaveLength(3);
    await vi.waitFor(() => expect(stack.onlyUpload().aborted).toBe(true));
  });

  it('has the store check every part when its ETags are not MD5s, and remembers it', async () => {
    const stack = new FakeStack({ partSize: 10, etags: 'opaque', ...md5Only });
    const retries: RetryInfo[] = [];
    const client = clientFor(stack, { checksums: true, concurrency: 1, onRetry: (info) => retries.push(info) });
    const first = makeFile(35);
    const second = makeFile(25, 'second.bin');

    await client.uploadFile(first, knownFieldId);
    const putsOfFirst = stack.partPuts.length;
    expect(retries.map((retry) => retry.error)).toMatchObject([{ partNumber: 1, code: 'checksum' }]);
    await client.uploadFile(second, knownFieldId);

    expect(stack.storedBytes('sig-1')).toEqual(await fileBytes(first));
    expect(stack.storedBytes('sig-2')).toEqual(await fileBytes(second));
    // Part 1 of the first upload went twice (unchecked, then checked); every later part once, checked.
    const firstMd5s = await partMd5s(first, 10);
    expect(stack.partPuts.slice(0, putsOfFirst).map((put) => [put.partNumber, put.headers['Content-MD5']])).toEqual([
      [1, undefined],
      [1, firstMd5s[0]],
      [2, firstMd5s[1]],
      [3, firstMd5s[2]],
      [4, firstMd5s[3]],
    ]);
    expect(stack.partPuts.slice(putsOfFirst).map((put) => put.headers['Content-MD5'])).toEqual(
      await partMd5s(second, 10),
    );
    expect(retries).toHaveLength(1);
  });

  it('checks parts by their ETags through a server that does not know checksums', async () => {
    const stack = new FakeStack({ partSize: 10, checksumExtension: false });
    const file = makeFile(35);
    stack.failPart(4, 'corrupt');

    await clientFor(stack, { checksums: true }).uploadFile(file, knownFieldId);

    expect(stack.storedBytes(stack.onlyUpload().signature)).toEqual(await fileBytes(file));
    expect(stack.putsOf(4)).toHaveLength(2);
    expect(stack.partPuts.every((put) => !('Content-MD5' in put.headers))).toBe(true);
  });

  it('on resume, compares the stored parts with their ETags, and sends one that differs for the store to check', async () => {
    const stack = new FakeStack({ partSize: 10, ...md5Only });
    const client = clientFor(stack, { checksums: true, resume: true, retries: 0, concurrency: 1 });
    const file = makeFile(45);
    stack.failPart(3, 'network');
    await expect(client.uploadFile(file, knownFieldId)).rejects.toMatchObject({
      name: 'PartNetworkError',
      code: 'network',
      partNumber: 3,
    });
    // Part 1 was stored altered and its ETag never compared (the last try ended as it landed).
    const first = stack.onlyUpload().parts.get(1);
    if (!first) throw new Error('part 1 should be stored');
    first.bytes[0] = (first.bytes[0] as number) ^ 0xff;
    first.etag = `"${createHash('md5').update(first.bytes).digest('hex')}"`;
    const putsBefore = stack.partPuts.length;

    await client.uploadFile(file, knownFieldId);

    const expected = await partMd5s(file, 10);
    const resent = stack.partPuts.slice(putsBefore).map((put) => [put.partNumber, put.headers['Content-MD5']]);
    expect(resent).toEqual([
      [1, expected[0]],
      [3, undefined],
      [4, undefined],
      [5, undefined],
    ]);
    expect(stack.storedBytes('sig-1')).toEqual(await fileBytes(file));
  });

  it('stores corrupted bytes without checksums: what the checksums are for', async () => {
    const stack = new FakeStack({ partSize: 10, ...md5Only });
    const file = makeFile(35);
    stack.failPart(2, 'corrupt');

    await clientFor(stack, { checksums: false }).uploadFile(file, knownFieldId);

    expect(stack.partPuts.every((put) => !('Content-MD5' in put.headers))).toBe(true);
    expect(stack.storedBytes(stack.onlyUpload().signature)).not.toEqual(await fileBytes(file));
  });
});

describe('checksums signed, where the server requires them', () => {
  it('signs every part for its MD5 and sends the MD5 along', async () => {
    const stack = new FakeStack({ partSize: 10, requireChecksums: true, ...md5Only });
    const file = makeFile(95);

    await clientFor(stack, { checksums: true, concurrency: 3 }).uploadFile(file, knownFieldId);

    const upload = stack.onlyUpload();
    expect(stack.storedBytes(upload.signature)).toEqual(await fileBytes(file));
    const expected = await partMd5s(file, 10);
    const sent = partMd5Headers(stack);
    expect([...sent.keys()].sort((a, b) => a - b)).toEqual(expected.map((_, index) => index + 1));
    for (const [partNumber, contentMd5] of sent) expect(contentMd5).toEqual([expected[partNumber - 1]]);
    // Every part asked for came with its checksum, and each part was signed once.
    const signed: number[] = [];
    for (const call of stack.callsTo('upload-parts/')) {
      const checksums = call.body.part_checksums as { part_number: number; checksum: string }[];
      expect(checksums.map((item) => item.part_number)).toEqual(call.body.part_numbers);
      signed.push(...(call.body.part_numbers as number[]));
    }
    expect(signed.sort((a, b) => a - b)).toEqual(expected.map((_, index) => index + 1));
  });

  it('asks once, and prepares later uploads signed from the start', async () => {
    const stack = new FakeStack({ partSize: 10, requireChecksums: true, ...md5Only });
    const client = clientFor(stack, { checksums: true });

    await client.uploadFile(makeFile(25), knownFieldId);
    await client.uploadFile(makeFile(25), knownFieldId);

    expect(stack.callsTo('upload-prepare/').map((call) => call.body.checksum_algorithms)).toEqual([
      ['crc32'],
      ['crc32', 'md5'],
      ['crc32', 'md5'],
    ]);
    expect(stack.uploads.size).toBe(2);
  });

  it("signs a small file's one part for its MD5 through upload-parts/", async () => {
    const stack = new FakeStack({ partSize: 16 * MiB, requireChecksums: true, ...md5Only });
    const file = makeFile(1000);

    await clientFor(stack, { checksums: true }).uploadFile(file, knownFieldId, { contentType: 'text/plain' });

    const [checksum] = await partMd5s(file, 16 * MiB);
    // Its CRC32 went with prepare, but the server picked MD5: signed as hashed.
    expect(stack.callsTo('upload-parts/').map((call) => call.body.part_checksums)).toEqual([
      [{ part_number: 1, checksum }],
    ]);
    expect(stack.partPuts.map((put) => put.headers)).toEqual([
      { 'Content-Type': 'text/plain', 'If-None-Match': '*', 'Content-MD5': checksum },
    ]);
  });

  it("hashes a 0-byte file as MD5('')", async () => {
    const stack = new FakeStack({ partSize: 16 * MiB, requireChecksums: true, ...md5Only });
    await clientFor(stack, { checksums: true }).uploadFile(makeFile(0), knownFieldId);
    expect(stack.partPuts[0]?.headers['Content-MD5']).toBe('1B2M2Y8AsgTpgAmY7PhCfg==');
  });

  it('signs part 1 again when the server splits even a small file', async () => {
    const stack = new FakeStack({ partSize: 10, requireChecksums: true, ...md5Only });
    const file = makeFile(11);

    await clientFor(stack, { checksums: true }).uploadFile(file, knownFieldId);

    expect(stack.storedBytes(stack.onlyUpload().signature)).toEqual(await fileBytes(file));
    expect(stack.callsTo('upload-parts/').flatMap((call) => call.body.part_numbers as number[])).toEqual([1, 2]);
    expect(stack.putsOf(1)).toHaveLength(1);
  });

  it('sends again a part that was corrupted on the way', async () => {
    const stack = new FakeStack({ partSize: 10, requireChecksums: true, ...md5Only });
    const file = makeFile(35);
    stack.failPart(2, 'corrupt');
    const retries: RetryInfo[] = [];

    await clientFor(stack, { checksums: true, onRetry: (info) => retries.push(info) }).uploadFile(file, knownFieldId);

    expect(stack.putsOf(2)).toHaveLength(2);
    expect(retries).toHaveLength(1);
    expect(retries[0]?.error).toMatchObject({ partNumber: 2, status: 400, storeCode: 'BadDigest' });
    expect(stack.storedBytes(stack.onlyUpload().signature)).toEqual(await fileBytes(file));
  });

  it('goes on with checksums after a dropped connection', async () => {
    const stack = new FakeStack({ partSize: 10, requireChecksums: true, ...md5Only });
    const client = clientFor(stack, { checksums: true, resume: true, retries: 0, concurrency: 1 });
    const file = makeFile(45);
    stack.failPart(3, 'network');
    await expect(client.uploadFile(file, knownFieldId)).rejects.toMatchObject({
      name: 'PartNetworkError',
      code: 'network',
      partNumber: 3,
    });
    const putsBefore = stack.partPuts.length;

    await client.uploadFile(file, knownFieldId);

    const expected = await partMd5s(file, 10);
    const resent = stack.partPuts.slice(putsBefore);
    expect(resent.map((put) => put.partNumber)).toEqual([3, 4, 5]);
    expect(resent.map((put) => put.headers['Content-MD5'])).toEqual(expected.slice(2));
    expect(stack.storedBytes('sig-1')).toEqual(await fileBytes(file));
  });
});

describe('PartChecksums', () => {
  it('hashes in upload order, only a few parts ahead of those asked for', async () => {
    const file = makeFile(100);
    const parts = planParts(100, 10, 10);
    const hashed: number[] = [];
    const checksums = new PartChecksums({
      parts,
      blob: file,
      checksum: async (blob) => {
        hashed.push(blob.size);
        return md5(new Uint8Array(await blob.arrayBuffer()));
      },
      ahead: 2,
      signal: new AbortController().signal,
    });
    const expected = await partMd5s(file, 10);

    expect([...(await checksums.of([2]))]).toEqual([[2, expected[1]]]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(hashed).toHaveLength(4);
    expect(checksums.has(4)).toBe(true);
    expect(checksums.has(5)).toBe(false);

    expect(await checksums.of([6, 1])).toEqual(
      new Map([
        [6, expected[5]],
        [1, expected[0]],
      ]),
    );
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(hashed).toHaveLength(8);
  });

  it('fails every waiting part with the reason, once aborted', async () => {
    const controller = new AbortController();
    const checksums = new PartChecksums({
      parts: planParts(30, 10, 3),
      blob: makeFile(30),
      checksum: async () => {
        controller.abort(new Error('stop'));
        return 'x';
      },
      ahead: 0,
      signal: controller.signal,
    });
    await expect(checksums.of([1, 2])).rejects.toThrow('stop');
    await expect(checksums.of([3])).rejects.toThrow('stop');
  });
});

describe('stalled parts', () => {
  it('gives up a part that moves nothing for stallTimeoutMs, and sends it again', async () => {
    const stack = new FakeStack({ partSize: 10 });
    const file = makeFile(35);
    stack.failPart(2, 'hang');
    const retries: RetryInfo[] = [];

    await clientFor(stack, { stallTimeoutMs: 30, onRetry: (info) => retries.push(info) }).uploadFile(
      file,
      knownFieldId,
    );

    expect(stack.putsOf(2)).toHaveLength(2);
    expect(retries.map((retry) => retry.error.message)).toEqual([
      'upload of part 2 failed: stalled, nothing moved for 0.03 s',
    ]);
    expect(retries[0]?.error).toMatchObject({ name: 'PartStalledError', stallTimeoutMs: 30, code: 'network' });
    expect(stack.storedBytes(stack.onlyUpload().signature)).toEqual(await fileBytes(file));
  });

  it('lets a slow part that keeps moving take longer than stallTimeoutMs', async () => {
    const stack = new FakeStack({ partSize: 10 });
    stack.failPart(1, 'crawl');
    const retries: RetryInfo[] = [];

    await clientFor(stack, { stallTimeoutMs: 40, onRetry: (info) => retries.push(info) }).uploadFile(
      makeFile(35),
      knownFieldId,
    );

    expect(retries).toEqual([]);
    expect(stack.putsOf(1)).toHaveLength(1);
  });

  it('does not time parts out through a transport that reports no progress', async () => {
    const stack = new FakeStack({ partSize: 10 });
    const silentTransport = {
      put: async (request: Parameters<typeof stack.transport.put>[0]) => {
        await new Promise((resolve) => setTimeout(resolve, 60));
        return stack.transport.put({ ...request, onProgress: () => {} });
      },
    };
    const retries: RetryInfo[] = [];

    await clientFor(stack, {
      transport: silentTransport,
      stallTimeoutMs: 20,
      onRetry: (info) => retries.push(info),
    }).uploadFile(makeFile(25), knownFieldId);

    expect(retries).toEqual([]);
  });

  it('refuses a stallTimeoutMs that is not a whole number of milliseconds ≥ 0', () => {
    expect(() => clientFor(new FakeStack(), { stallTimeoutMs: -1 })).toThrow('stallTimeoutMs must be an integer ≥ 0');
  });
});
