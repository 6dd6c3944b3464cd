import { openAsBlob } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { S3FileFieldClient, S3FileFieldError, type UploadProgress } from '../../src/index.js';
import { clientFor } from '../support/client.js';
import { apiBaseUrl, digestOf, FakeStack, fileBytes, knownFieldId, makeFile } from '../support/fake-stack.js';
import { startLoopbackStack } from '../support/loopback-stack.js';

describe('S3FileFieldClient', () => {
  it('takes a bare progress listener as third argument, like the 1.x client', async () => {
    const events: UploadProgress[] = [];
    await clientFor(new FakeStack()).uploadFile(makeFile(25), knownFieldId, (progress) => events.push(progress));
    expect(events.at(-1)).toMatchObject({ state: 'done', uploaded: 25, total: 25 });
  });

  it("sends a File's name and type", async () => {
    const stack = new FakeStack();
    await clientFor(stack).uploadFile(makeFile(3, 'photo.jpg'), knownFieldId);
    expect(stack.callsTo('upload-prepare/')[0]?.body).toEqual({
      field_id: knownFieldId,
      file_name: 'photo.jpg',
      file_size: 3,
      content_type: 'application/x-test',
    });
  });

  it('needs a fileName for a Blob, and lets it override a File name', async () => {
    const stack = new FakeStack();
    const client = clientFor(stack);
    const blob = new Blob(['abc']);
    const error = await client.uploadFile(blob, knownFieldId).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(S3FileFieldError);
    expect(error).toMatchObject({ code: 'invalid-input', message: 'a Blob has no name: pass the fileName option' });

    await client.uploadFile(blob, knownFieldId, { fileName: 'notes.txt' });
    await client.uploadFile(makeFile(3, 'a.bin'), knownFieldId, { fileName: 'b.bin' });
    expect(stack.callsTo('upload-prepare/').map((call) => call.body.file_name)).toEqual(['notes.txt', 'b.bin']);
    expect(stack.callsTo('upload-prepare/')[0]?.body).not.toHaveProperty('content_type');
  });

  it('uploads a file opened with fs.openAsBlob, part by part', async () => {
    const directory = await mkdtemp(join(tmpdir(), 's3ff-'));
    try {
      const path = join(directory, 'big.bin');
      await writeFile(path, await fileBytes(makeFile(1234)));
      const stack = new FakeStack({ partSize: 100 });
      const blob = await openAsBlob(path);

      await clientFor(stack).uploadFile(blob, knownFieldId, { fileName: 'big.bin' });

      expect(stack.partPuts).toHaveLength(13);
      expect(stack.storedBytes('sig-1')).toEqual(await fileBytes(makeFile(1234)));
    } finally {
      await rm(directory, { recursive: true });
    }
  });

  it('uploads over node:http by default, over a real connection', async () => {
    const loopback = await startLoopbackStack({ partSize: 100_000 });
    // Neither the parts nor the API calls go through Node's fetch.
    vi.stubGlobal('fetch', () => Promise.reject(new Error('fetch is not the default in Node')));
    try {
      const client = new S3FileFieldClient({ baseUrl: loopback.baseUrl });
      const big = makeFile(250_001);
      const events: UploadProgress[] = [];
      loopback.stack.failPart(3, 'corrupt');

      await client.uploadFile(big, knownFieldId, { onProgress: (progress) => events.push(progress) });
      await client.uploadFile(makeFile(5, 'small.txt'), knownFieldId, { contentType: 'text/plain' });

      expect(loopback.stack.storedBytes('sig-1')).toEqual(await fileBytes(big));
      expect(loopback.stack.putsOf(1).map((put) => put.size)).toEqual([100_000, 5]);
      // Checksums are on by default: every part is signed for its CRC32, and
      // part 3, which came to the store altered, was refused and sent again.
      const bigBytes = await fileBytes(big);
      const part3 = { 'x-amz-checksum-crc32': digestOf('crc32', bigBytes.subarray(200_000, 250_001)) };
      expect(loopback.stack.putsOf(3).map((put) => put.headers)).toEqual([part3, part3]);
      expect(loopback.stack.putsOf(1)[1]?.headers).toEqual({
        'Content-Type': 'text/plain',
        'If-None-Match': '*',
        'x-amz-checksum-crc32': digestOf('crc32', await fileBytes(makeFile(5, 'small.txt'))),
      });
      expect(events.at(-1)).toMatchObject({ state: 'done', uploaded: 250_001 });
    } finally {
      vi.unstubAllGlobals();
      await loopback.close();
    }
  });

  it('refuses what is not a file or has no field id', async () => {
    const client = clientFor(new FakeStack());
    await expect(client.uploadFile('text' as unknown as Blob, knownFieldId)).rejects.toThrow(
      'file must be a File or a Blob',
    );
    await expect(client.uploadFile(makeFile(1), '')).rejects.toThrow('fieldId is required');
  });

  it('sends the credentials option with the API calls', async () => {
    const stack = new FakeStack();
    await clientFor(stack).uploadFile(makeFile(1), knownFieldId);
    await clientFor(stack, { credentials: 'include' }).uploadFile(makeFile(1), knownFieldId);
    expect(stack.callsTo('upload-prepare/').map((call) => call.credentials)).toEqual(['same-origin', 'include']);
  });

  it.each([
    [{ concurrency: 0 }, 'concurrency must be an integer ≥ 1, not 0'],
    [{ concurrency: 2.5 }, 'concurrency must be an integer ≥ 1, not 2.5'],
    [{ retries: -1 }, 'retries must be an integer ≥ 0, not -1'],
    [{ baseUrl: '' }, 'baseUrl is required'],
  ])('refuses the options %j', (options, message) => {
    expect(() => new S3FileFieldClient({ baseUrl: apiBaseUrl, ...options })).toThrow(message);
  });
});
