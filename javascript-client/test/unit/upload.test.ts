import { describe, expect, it, vi } from 'vitest';
import {
  ApiCallError,
  defaultConcurrency,
  defaultNodeConcurrency,
  MemoryResumeStore,
  MissingEtagError,
  PartNetworkError,
  PartUploadError,
  RequestQueue,
  type ResumeRecord,
  type RetryInfo,
  UploadAbortedError,
} from '../../src/index.js';
import { clientFor, recordProgress } from '../support/client.js';
import { digestOf, FakeStack, fileBytes, knownFieldId, makeFile } from '../support/fake-stack.js';

const slowDown = '<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>';

describe('file sizes', () => {
  // The fake store splits in 10-byte parts and refuses a body of another size than signed.
  it.each([
    { size: 0, parts: 1, multipart: false },
    { size: 1, parts: 1, multipart: false },
    { size: 10, parts: 1, multipart: false },
    { size: 11, parts: 2, multipart: true },
    { size: 95, parts: 10, multipart: true },
  ])('uploads $size bytes in $parts part(s)', async ({ size, parts, multipart }) => {
    const stack = new FakeStack({ partSize: 10 });
    const file = makeFile(size);

    const fieldValue = await clientFor(stack).uploadFile(file, knownFieldId);

    const upload = stack.onlyUpload();
    expect(fieldValue).toBe(`field-value:${upload.objectKey}`);
    expect(upload.multipart).toBe(multipart);
    expect(stack.partPuts).toHaveLength(parts);
    expect(stack.storedBytes(upload.signature)).toEqual(await fileBytes(file));
    const finalize = stack.callsTo('upload-finalize/')[0]?.body;
    expect(finalize?.parts).toHaveLength(multipart ? parts : 0);
  });

  it('sends the signed Content-Type of a single-part upload', async () => {
    const stack = new FakeStack();
    await clientFor(stack).uploadFile(makeFile(5), knownFieldId, { contentType: 'image/png' });
    expect(stack.callsTo('upload-prepare/')[0]?.body).toMatchObject({ file_size: 5, content_type: 'image/png' });
    expect(stack.partPuts[0]?.headers).toMatchObject({ 'Content-Type': 'image/png', 'If-None-Match': '*' });
  });

  it('signs the parts beyond the first batch through upload-parts/, at most 100 per call, each once', async () => {
    const stack = new FakeStack({ partSize: 10, firstBatch: 16 });
    const file = makeFile(2503);

    await clientFor(stack).upload(file, knownFieldId);

    const upload = stack.onlyUpload();
    expect(upload.partCount).toBe(251);
    expect(stack.storedBytes(upload.signature)).toEqual(await fileBytes(file));
    const batches = stack.callsTo('upload-parts/').map((call) => call.body.part_numbers as number[]);
    expect(batches.every((batch) => batch.length >= 1 && batch.length <= 100)).toBe(true);
    const signed = batches.flat();
    expect(new Set(signed).size).toBe(signed.length);
    expect(signed.sort((a, b) => a - b)).toEqual(Array.from({ length: 235 }, (_, index) => index + 17));
    expect(stack.partPuts).toHaveLength(251);
  });

  it.each([
    [7, 7],
    [null, 100],
  ])('asks upload-parts/ for no more parts than the server allows (%s)', async (limit, expected) => {
    const stack = new FakeStack({ partSize: 10, firstBatch: 2, maxPartUrls: limit });
    const file = makeFile(1500);

    await clientFor(stack).upload(file, knownFieldId);

    const batches = stack.callsTo('upload-parts/').map((call) => (call.body.part_numbers as number[]).length);
    expect(Math.max(...batches)).toBe(expected);
    expect(stack.storedBytes(stack.onlyUpload().signature)).toEqual(await fileBytes(file));
  });

  it('resolves upload() to the whole finalize answer', async () => {
    const stack = new FakeStack();
    const result = await clientFor(stack).upload(makeFile(25, 'report.pdf'), knownFieldId);
    expect(result).toEqual({
      fieldValue: 'field-value:uploads/sig-1/report.pdf',
      objectKey: 'uploads/sig-1/report.pdf',
      fileSize: 25,
      // Checksums are off (test/support/client.ts): the store kept none.
      checksum: null,
    });
  });
});

describe('retries', () => {
  it.each([
    { fault: { status: 500 } as const, label: '500' },
    { fault: { status: 503, body: slowDown } as const, label: '503 SlowDown' },
    { fault: { status: 429 } as const, label: '429' },
    { fault: 'network' as const, label: 'a network error' },
  ])('retries a part after $label with backoff', async ({ fault }) => {
    const stack = new FakeStack();
    stack.failPart(2, fault, fault);
    const retries: RetryInfo[] = [];

    await clientFor(stack, { retryDelay: { baseMs: 2, maxMs: 3 }, onRetry: (info) => retries.push(info) }).uploadFile(
      makeFile(35),
      knownFieldId,
    );

    expect(stack.putsOf(2)).toHaveLength(3);
    expect(retries.map((retry) => [retry.operation, retry.retryNumber])).toEqual([
      ['part 2', 1],
      ['part 2', 2],
    ]);
    // Full jitter: the first wait is below 2 ms, the second below min(4, 3) ms.
    expect(retries[0]?.delayMs).toBeLessThan(2);
    expect(retries[1]?.delayMs).toBeLessThan(3);
    expect(retries[0]?.error).toBeInstanceOf(fault === 'network' ? PartNetworkError : PartUploadError);
  });

  it('fails with the store code and message once the retries are spent', async () => {
    const stack = new FakeStack();
    stack.failPart(1, ...Array(4).fill({ status: 503, body: slowDown }));

    const upload = clientFor(stack, { retries: 3 }).uploadFile(makeFile(35), knownFieldId);

    const error = await upload.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PartUploadError);
    expect(error).toMatchObject({
      code: 'part',
      partNumber: 1,
      status: 503,
      storeCode: 'SlowDown',
      storeMessage: 'Please reduce your request rate.',
    });
    expect((error as Error).message).toBe(
      'upload of part 1 failed: HTTP 503, SlowDown: Please reduce your request rate.',
    );
    expect(stack.putsOf(1)).toHaveLength(4);
    // Not resumable, so the parts already stored are freed.
    await vi.waitFor(() => expect(stack.callsTo('upload-abort/')).toHaveLength(1));
  });

  it('does not retry a part the store refuses for good', async () => {
    const stack = new FakeStack();
    stack.failPart(1, { status: 400, body: '<Error><Code>InvalidArgument</Code><Message>bad</Message></Error>' });
    await expect(clientFor(stack).uploadFile(makeFile(35), knownFieldId)).rejects.toMatchObject({
      partNumber: 1,
      status: 400,
      storeCode: 'InvalidArgument',
    });
    expect(stack.putsOf(1)).toHaveLength(1);
  });

  it('retries API calls after 502, 503 and network errors', async () => {
    const stack = new FakeStack({ partSize: 10, firstBatch: 1 });
    stack.failApi('upload-prepare/', { status: 503, body: { detail: 'Storage unavailable.' } }, 'network');
    stack.failApi('upload-parts/', { status: 502, body: '<html>Bad Gateway</html>' });
    stack.failApi('upload-finalize/', 'network');

    await clientFor(stack).uploadFile(makeFile(35), knownFieldId);

    expect(stack.callsTo('upload-prepare/')).toHaveLength(3);
    expect(stack.callsTo('upload-finalize/')).toHaveLength(2);
  });

  it("waits as long as a 429's Retry-After asks, up to the longest backoff", async () => {
    const stack = new FakeStack();
    stack.failApi('upload-prepare/', {
      status: 429,
      body: { detail: 'Slow down.' },
      headers: { 'Retry-After': '120' },
    });
    const retries: RetryInfo[] = [];

    await clientFor(stack, { retryDelay: { baseMs: 1, maxMs: 20 }, onRetry: (info) => retries.push(info) }).uploadFile(
      makeFile(5),
      knownFieldId,
    );

    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatchObject({ operation: 'upload-prepare/', delayMs: 20 });
  });
});

describe('expired URLs', () => {
  it('signs a part again after the store answers 403, and retries it', async () => {
    const stack = new FakeStack({ partSize: 10 });
    const expiringTransport = {
      put: (request: Parameters<typeof stack.transport.put>[0]) => {
        // The first batch of URLs expires just as the parts start.
        if (stack.partPuts.length === 0) stack.expireUrls();
        return stack.transport.put(request);
      },
    };
    const file = makeFile(35);

    await clientFor(stack, { transport: expiringTransport, concurrency: 1 }).uploadFile(file, knownFieldId);

    const resigned = stack.callsTo('upload-parts/').map((call) => call.body.part_numbers);
    expect(resigned).toEqual([[1], [2], [3], [4]]);
    expect(stack.storedBytes(stack.onlyUpload().signature)).toEqual(await fileBytes(file));
  });

  it('reports a 403 that a fresh URL meets too, with the store code', async () => {
    const stack = new FakeStack();
    const denied = { status: 403, body: '<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>' };
    stack.failPart(1, denied, denied);

    const error = await clientFor(stack)
      .uploadFile(makeFile(5), knownFieldId)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PartUploadError);
    expect(error).toMatchObject({ status: 403, storeCode: 'AccessDenied', storeMessage: 'Access Denied' });
    expect(stack.putsOf(1)).toHaveLength(2);
    expect(stack.callsTo('upload-parts/')).toHaveLength(1);
  });
});

describe('Django refusals', () => {
  it('fails fast on a 400 with the field errors', async () => {
    const stack = new FakeStack();

    const error = await clientFor(stack)
      .uploadFile(makeFile(5), 'app.Model.nope')
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ApiCallError);
    expect(error).toMatchObject({
      code: 'api',
      endpoint: 'upload-prepare/',
      status: 400,
      detail: 'field_id: Unknown field.',
      fieldErrors: { field_id: ['Unknown field.'] },
    });
    expect((error as Error).message).toBe('upload-prepare/ failed (HTTP 400): field_id: Unknown field.');
    expect(stack.callsTo('upload-prepare/')).toHaveLength(1);
    expect(stack.partPuts).toHaveLength(0);
  });

  it('fails fast on a 403 with the detail', async () => {
    const stack = new FakeStack();
    stack.failApi('upload-prepare/', { status: 403, body: { detail: 'You may not upload here.' } });
    await expect(clientFor(stack).uploadFile(makeFile(5), knownFieldId)).rejects.toMatchObject({
      status: 403,
      detail: 'You may not upload here.',
    });
    expect(stack.callsTo('upload-prepare/')).toHaveLength(1);
  });

  it('aborts the upload on the server when finalize is refused', async () => {
    const stack = new FakeStack();
    stack.failApi('upload-finalize/', { status: 400, body: { detail: 'Size 3 is not 35.' } });
    await expect(clientFor(stack).uploadFile(makeFile(35), knownFieldId)).rejects.toThrow(
      'upload-finalize/ failed (HTTP 400): Size 3 is not 35.',
    );
    await vi.waitFor(() => expect(stack.callsTo('upload-abort/')).toHaveLength(1));
  });
});

describe('abort', () => {
  it('stops every part in flight, aborts on the server and rejects with an AbortError', async () => {
    const stack = new FakeStack({ partSize: 10 });
    for (let part = 1; part <= 20; part++) stack.failPart(part, 'hang');
    const controller = new AbortController();
    const { events, onProgress } = recordProgress();

    const upload = clientFor(stack, { concurrency: 3 }).uploadFile(makeFile(200), knownFieldId, {
      signal: controller.signal,
      onProgress,
    });
    await vi.waitFor(() => expect(stack.inFlight).toBe(3));
    controller.abort();

    const error = await upload.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UploadAbortedError);
    expect(error).toMatchObject({ name: 'AbortError', code: 'aborted' });
    expect(stack.inFlight).toBe(0);
    expect(stack.partPuts).toHaveLength(3);
    await vi.waitFor(() => expect(stack.callsTo('upload-abort/')).toHaveLength(1));
    expect(stack.callsTo('upload-abort/')[0]?.body).toEqual({ upload_signature: 'sig-1' });
    expect(stack.callsTo('upload-finalize/')).toHaveLength(0);
    expect(events.at(-1)?.state).toBe('aborted');
  });

  it('stops an API call in flight', async () => {
    const stack = new FakeStack();
    stack.failApi('upload-prepare/', 'hang');
    const controller = new AbortController();
    const upload = clientFor(stack).uploadFile(makeFile(5), knownFieldId, { signal: controller.signal });
    await vi.waitFor(() => expect(stack.callsTo('upload-prepare/')).toHaveLength(1));
    controller.abort();
    await expect(upload).rejects.toBeInstanceOf(UploadAbortedError);
    expect(stack.partPuts).toHaveLength(0);
  });

  it('does nothing for a signal aborted before the start', async () => {
    const stack = new FakeStack();
    const reason = new Error('user left');
    const error = await clientFor(stack)
      .uploadFile(makeFile(5), knownFieldId, { signal: AbortSignal.abort(reason) })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UploadAbortedError);
    expect((error as Error).cause).toBe(reason);
    expect(stack.apiCalls).toHaveLength(0);
  });

  it('stops waiting for a retry', async () => {
    const stack = new FakeStack();
    stack.failPart(1, { status: 503 });
    const controller = new AbortController();
    const upload = clientFor(stack, {
      retryDelay: { baseMs: 60_000, maxMs: 60_000 },
      onRetry: () => controller.abort(),
    }).uploadFile(makeFile(5), knownFieldId, { signal: controller.signal });
    await expect(upload).rejects.toBeInstanceOf(UploadAbortedError);
  });
});

describe('concurrency', () => {
  it.each([1, 3, 4])('never sends more than %i parts at once', async (concurrency) => {
    const stack = new FakeStack({ partSize: 10 });
    await clientFor(stack, { concurrency }).uploadFile(makeFile(400), knownFieldId);
    expect(stack.maxInFlight).toBe(concurrency);
  });

  it('bounds the parts in flight over all the uploads of one client', async () => {
    const stack = new FakeStack({ partSize: 10 });
    const client = clientFor(stack, { concurrency: 3 });
    const files = [makeFile(200), makeFile(150), makeFile(90)];

    await Promise.all(files.map((file) => client.uploadFile(file, knownFieldId)));

    expect(stack.maxInFlight).toBe(3);
    expect(stack.partPuts).toHaveLength(20 + 15 + 9);
  });

  it('bounds the parts in flight over clients that share a queue, each upload taking turns', async () => {
    const stack = new FakeStack({ partSize: 10 });
    const queue = new RequestQueue(2);
    const [first, second] = [clientFor(stack, { queue }), clientFor(stack, { queue })];

    await Promise.all([first.uploadFile(makeFile(300), knownFieldId), second.uploadFile(makeFile(40), knownFieldId)]);

    expect(stack.maxInFlight).toBe(2);
    // The short upload's parts went out while the long one still had most of its own to send.
    const short = [...stack.uploads.values()].find((upload) => upload.fileSize === 40)?.signature;
    const lastOfShort = stack.partPuts.map((put) => put.signature).lastIndexOf(short ?? '');
    expect(stack.partPuts).toHaveLength(34);
    expect(lastOfShort).toBeLessThan(stack.partPuts.length / 2);
    expect(queue.active).toBe(0);
  });

  it('sends 8 parts at once by default in Node', async () => {
    const stack = new FakeStack({ partSize: 10 });
    await clientFor(stack).uploadFile(makeFile(400), knownFieldId);
    expect(stack.maxInFlight).toBe(defaultNodeConcurrency);
    expect(defaultNodeConcurrency).toBe(8);
  });

  it('sends 6 parts at once by default in a browser, where 6 connections to a host is the most', async () => {
    vi.stubGlobal('XMLHttpRequest', class {});
    try {
      const stack = new FakeStack({ partSize: 10 });
      await clientFor(stack).uploadFile(makeFile(400), knownFieldId);
      expect(stack.maxInFlight).toBe(defaultConcurrency);
      expect(defaultConcurrency).toBe(6);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('stops starting parts after one fails for good', async () => {
    const stack = new FakeStack({ partSize: 10 });
    stack.failPart(2, 'no-etag');
    await expect(clientFor(stack, { concurrency: 2 }).uploadFile(makeFile(400), knownFieldId)).rejects.toThrow();
    expect(stack.partPuts.length).toBeLessThan(10);
    expect(stack.inFlight).toBe(0);
  });
});

describe('missing ETag', () => {
  it('says the CORS rules must expose ETag, without retrying', async () => {
    const stack = new FakeStack();
    stack.failPart(1, 'no-etag');

    const error = await clientFor(stack)
      .uploadFile(makeFile(35), knownFieldId)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(MissingEtagError);
    expect(error).toMatchObject({ code: 'missing-etag', partNumber: 1, status: 200 });
    expect((error as Error).message).toContain('Access-Control-Expose-Headers: ETag');
    expect(stack.putsOf(1)).toHaveLength(1);
  });
});

describe('progress', () => {
  it('goes through the states, never goes down and ends at the total', async () => {
    const stack = new FakeStack({ partSize: 10 });
    stack.failPart(3, 'network');
    const { events, onProgress } = recordProgress();

    await clientFor(stack).uploadFile(makeFile(95), knownFieldId, { onProgress });

    const states = events.map((event) => event.state).filter((state, index, all) => state !== all[index - 1]);
    expect(states).toEqual(['preparing', 'uploading', 'finalizing', 'done']);
    const uploaded = events.map((event) => event.uploaded);
    expect(uploaded).toEqual([...uploaded].sort((a, b) => a - b));
    expect(events.every((event) => event.total === 95)).toBe(true);
    expect(events.at(-1)).toMatchObject({ state: 'done', uploaded: 95, partsDone: 10, partCount: 10 });
    // Parts report bytes while they are sent, not only when stored.
    expect(new Set(uploaded).size).toBeGreaterThan(10);
  });

  it('reports a 0-byte upload as done at 0 of 0', async () => {
    const { events, onProgress } = recordProgress();
    await clientFor(new FakeStack()).uploadFile(makeFile(0), knownFieldId, { onProgress });
    expect(events.at(-1)).toMatchObject({ state: 'done', uploaded: 0, total: 0 });
  });

  it('reports the error state', async () => {
    const { events, onProgress } = recordProgress();
    await expect(clientFor(new FakeStack()).uploadFile(makeFile(5), 'bad.Field.id', { onProgress })).rejects.toThrow();
    expect(events.map((event) => event.state)).toEqual(['preparing', 'error']);
  });
});

describe('resume', () => {
  it('after a dropped connection, sends only the parts the store lacks', async () => {
    const stack = new FakeStack({ partSize: 10 });
    const client = clientFor(stack, { resume: true, retries: 1, concurrency: 1 });
    const file = makeFile(95);
    stack.failPart(4, 'network', 'network');

    await expect(client.uploadFile(file, knownFieldId)).rejects.toBeInstanceOf(PartNetworkError);
    expect(stack.callsTo('upload-abort/')).toHaveLength(0);
    expect([...stack.onlyUpload().parts.keys()]).toEqual([1, 2, 3]);
    const putsBefore = stack.partPuts.length;

    const fieldValue = await client.uploadFile(file, knownFieldId);

    expect(fieldValue).toBe('field-value:uploads/sig-1/data.bin');
    expect(stack.callsTo('upload-prepare/')).toHaveLength(1);
    expect(stack.callsTo('upload-status/')).toHaveLength(1);
    expect(stack.partPuts.slice(putsBefore).map((put) => put.partNumber)).toEqual([4, 5, 6, 7, 8, 9, 10]);
    expect(stack.storedBytes('sig-1')).toEqual(await fileBytes(file));
  });

  it('after a reload, goes on from a shared store and counts the stored parts as uploaded', async () => {
    const stack = new FakeStack({ partSize: 10 });
    const store = new MemoryResumeStore();
    stack.failPart(2, 'network', 'network');
    await expect(
      clientFor(stack, { resume: store, retries: 1, concurrency: 1 }).uploadFile(makeFile(35), knownFieldId),
    ).rejects.toThrow();

    const { events, onProgress } = recordProgress();
    const reloaded = clientFor(stack, { resume: store });
    await reloaded.uploadFile(makeFile(35), knownFieldId, { onProgress });

    expect(stack.putsOf(1)).toHaveLength(1);
    expect(events.find((event) => event.state === 'uploading')).toMatchObject({ uploaded: 10, partsDone: 1 });
  });

  it('remembers how many parts are stored, and the CRC32 part 1 was signed for', async () => {
    const stack = new FakeStack({ partSize: 10, checksumAlgorithms: ['crc32'] });
    const remembered: ResumeRecord[] = [];
    const store = new (class extends MemoryResumeStore {
      override set(key: string, record: ResumeRecord): void {
        remembered.push(record);
        super.set(key, record);
      }
    })();
    stack.failPart(3, 'network', 'network');
    const file = makeFile(45);
    await expect(
      clientFor(stack, { resume: store, retries: 1, concurrency: 1, checksums: true }).uploadFile(file, knownFieldId),
    ).rejects.toThrow();

    expect(remembered.map((record) => record.storedParts)).toEqual([0, 1, 2]);
    expect(remembered.at(-1)?.firstPartChecksum).toBe(digestOf('crc32', (await fileBytes(file)).subarray(0, 10)));
  });

  it('starts over, freeing the old upload, when the file chosen again begins with other bytes', async () => {
    const stack = new FakeStack({ partSize: 10, checksumAlgorithms: ['crc32'] });
    const store = new MemoryResumeStore();
    const options = { resume: store, retries: 0, concurrency: 1, checksums: true };
    stack.failPart(3, 'network');
    await expect(clientFor(stack, options).uploadFile(makeFile(45), knownFieldId)).rejects.toThrow();

    // The same name, size and time, other bytes: not the file whose upload is remembered.
    const other = new File([new Uint8Array(45).fill(9)], 'data.bin', {
      type: 'application/x-test',
      lastModified: 1_700_000_000_000,
    });
    await clientFor(stack, options).uploadFile(other, knownFieldId);

    expect(
      stack.callsTo('upload-abort/').map((call) => (call.body as { upload_signature: string }).upload_signature),
    ).toEqual(['sig-1']);
    expect(stack.callsTo('upload-prepare/')).toHaveLength(2);
    expect(stack.callsTo('upload-status/')).toHaveLength(0);
    expect(Buffer.compare(stack.storedBytes('sig-2'), await fileBytes(other))).toBe(0);
  });

  it('sends again a stored part whose size differs', async () => {
    const stack = new FakeStack({ partSize: 10 });
    const client = clientFor(stack, { resume: true, retries: 0, concurrency: 1 });
    stack.failPart(3, 'network');
    await expect(client.uploadFile(makeFile(35), knownFieldId)).rejects.toThrow();
    const stored = stack.onlyUpload().parts.get(2);
    if (stored) stored.bytes = stored.bytes.slice(0, 4);

    await client.uploadFile(makeFile(35), knownFieldId);

    expect(stack.putsOf(1)).toHaveLength(1);
    expect(stack.putsOf(2)).toHaveLength(2);
  });

  it('finalizes a single-part upload the store already holds', async () => {
    const stack = new FakeStack();
    const client = clientFor(stack, { resume: true, retries: 0 });
    stack.failApi('upload-finalize/', 'network');
    await expect(client.uploadFile(makeFile(5), knownFieldId)).rejects.toThrow();

    await client.uploadFile(makeFile(5), knownFieldId);

    expect(stack.partPuts).toHaveLength(1);
    expect(stack.callsTo('upload-finalize/').at(-1)?.body).toEqual({ upload_signature: 'sig-1', parts: [] });
  });

  it('starts over when the server no longer knows the upload', async () => {
    const stack = new FakeStack({ partSize: 10 });
    const client = clientFor(stack, { resume: true, retries: 0 });
    stack.failPart(1, 'network');
    await expect(client.uploadFile(makeFile(35), knownFieldId)).rejects.toThrow();
    stack.failApi('upload-status/', { status: 400, body: { upload_signature: ['Bad or expired signature.'] } });

    await client.uploadFile(makeFile(35), knownFieldId);

    expect(stack.callsTo('upload-prepare/')).toHaveLength(2);
  });

  it('treats another file (other name, size or date) as a new upload', async () => {
    const stack = new FakeStack({ partSize: 10 });
    const client = clientFor(stack, { resume: true, retries: 0 });
    stack.failPart(1, 'network');
    await expect(client.uploadFile(makeFile(35), knownFieldId)).rejects.toThrow();

    await client.uploadFile(makeFile(35, 'data.bin', 1_800_000_000_000), knownFieldId);

    expect(stack.callsTo('upload-status/')).toHaveLength(0);
    expect(stack.callsTo('upload-prepare/')).toHaveLength(2);
  });

  it('forgets a finished upload', async () => {
    const stack = new FakeStack();
    const client = clientFor(stack, { resume: true });
    await client.uploadFile(makeFile(5), knownFieldId);
    await client.uploadFile(makeFile(5), knownFieldId);
    expect(stack.callsTo('upload-prepare/')).toHaveLength(2);
    expect(stack.callsTo('upload-status/')).toHaveLength(0);
  });

  it('forgets an aborted upload', async () => {
    const stack = new FakeStack();
    const store = new MemoryResumeStore();
    stack.failPart(1, 'hang');
    const controller = new AbortController();
    const upload = clientFor(stack, { resume: store }).uploadFile(makeFile(5), knownFieldId, {
      signal: controller.signal,
    });
    await vi.waitFor(() => expect(stack.inFlight).toBe(1));
    controller.abort();
    await expect(upload).rejects.toBeInstanceOf(UploadAbortedError);

    await clientFor(stack, { resume: store }).uploadFile(makeFile(5), knownFieldId);
    expect(stack.callsTo('upload-status/')).toHaveLength(0);
  });

  it('is off by default: a failed upload is aborted on the server', async () => {
    const stack = new FakeStack({ partSize: 10 });
    const client = clientFor(stack, { retries: 0 });
    stack.failPart(2, 'network');
    await expect(client.uploadFile(makeFile(35), knownFieldId)).rejects.toThrow();
    await vi.waitFor(() => expect(stack.callsTo('upload-abort/')).toHaveLength(1));

    await client.uploadFile(makeFile(35), knownFieldId);
    expect(stack.callsTo('upload-prepare/')).toHaveLength(2);
  });

  it('still uploads when the resume store fails', async () => {
    const stack = new FakeStack();
    const broken = {
      get: () => Promise.reject(new Error('quota')),
      set: () => {
        throw new Error('quota');
      },
      delete: () => {},
    };
    await expect(clientFor(stack, { resume: broken }).uploadFile(makeFile(5), knownFieldId)).resolves.toMatch(
      /^field-value:/,
    );
  });
});
