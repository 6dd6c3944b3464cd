import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { openAsBlob } from 'node:fs';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createNodeHttpTransport,
  MissingEtagError,
  openFile,
  type PartPutRequest,
  PartUploadError,
  S3FileFieldClient,
} from '../../src/index.js';
import { createNodeHttpFetch } from '../../src/node-requests.js';
import { knownFieldId, makeFile } from '../support/fake-stack.js';
import { startLoopbackStack } from '../support/loopback-stack.js';

interface Received {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A store on 127.0.0.1 that answers with `handler`, and what it saw. */
async function startStore(handler: (request: IncomingMessage, response: ServerResponse) => void) {
  const received: Received[] = [];
  let connections = 0;
  let active = 0;
  let mostActive = 0;
  const server = createServer((request, response) => {
    active++;
    mostActive = Math.max(mostActive, active);
    response.on('close', () => active--);
    handler(request, response);
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const store = {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    connections: () => connections,
    mostActive: () => mostActive,
    /** Reads the whole body, keeps it, then (`delayMs` later) answers 200 with an ETag. */
    storeAll: (request: IncomingMessage, response: ServerResponse, delayMs = 0) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({
          method: request.method,
          url: request.url,
          headers: request.headers,
          body: Buffer.concat(chunks),
        });
        const etag = `"etag-${received.length}"`;
        setTimeout(() => response.writeHead(200, { ETag: etag }).end(), delayMs);
      });
    },
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  stores.push(store);
  return store;
}

const stores: { close: () => Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
});

function part(url: string, body: Blob, overrides: Partial<PartPutRequest> = {}) {
  const progress: number[] = [];
  const request: PartPutRequest = {
    url,
    body,
    headers: { 'Content-Type': 'image/png' },
    signal: new AbortController().signal,
    onProgress: (sent) => progress.push(sent),
    ...overrides,
  };
  return { request, progress };
}

/** Reads `bytes` of the request body, then stops reading (until resumed) and calls `reached`. */
function readThenHang(bytes: number, reached: () => void) {
  return (request: IncomingMessage) => {
    let seen = 0;
    const count = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen < bytes) return;
      request.off('data', count);
      request.pause();
      reached();
    };
    request.on('data', count);
  };
}

describe('node:http transport', () => {
  it("sends exactly the part's bytes, with Content-Length and the signed headers, and reports progress", async () => {
    const store = await startStore((request, response) => store.storeAll(request, response));
    const bytes = randomBytes(3 * 1024 * 1024 + 7);
    const { request, progress } = part(`${store.origin}/bucket/key?partNumber=1&X-Amz-Signature=s`, new Blob([bytes]));

    const response = await createNodeHttpTransport().put(request);

    expect(response).toEqual({ status: 200, etag: '"etag-1"', body: '' });
    const [received] = store.received;
    expect(received?.method).toBe('PUT');
    expect(received?.url).toBe('/bucket/key?partNumber=1&X-Amz-Signature=s');
    expect(received?.headers['content-length']).toBe(String(bytes.length));
    expect(received?.headers['content-type']).toBe('image/png');
    expect(received?.headers['transfer-encoding']).toBeUndefined();
    expect(received?.body.equals(bytes)).toBe(true);
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.every((sent, index) => index === 0 || sent > (progress[index - 1] as number))).toBe(true);
    expect(progress.at(-1)).toBe(bytes.length);
  });

  it('passes every byte it sends, in order, to onBytes', async () => {
    const store = await startStore((request, response) => store.storeAll(request, response));
    const bytes = randomBytes(2 * 1024 * 1024 + 3);
    const passed: Uint8Array[] = [];
    const transport = createNodeHttpTransport();

    await transport.put(
      part(store.origin, new Blob([bytes]), { onBytes: (piece) => passed.push(piece.slice()) }).request,
    );

    expect(transport.passesBytes).toBe(true);
    expect(Buffer.concat(passed).equals(bytes)).toBe(true);
  });

  it('streams a slice of a file opened with fs.openAsBlob, passing each byte once to onBytes', async () => {
    const directory = await mkdtemp(join(tmpdir(), 's3ff-'));
    try {
      const bytes = randomBytes(3 * 1024 * 1024);
      await writeFile(join(directory, 'file.bin'), bytes);
      const file = await openAsBlob(join(directory, 'file.bin'));
      const store = await startStore((request, response) => store.storeAll(request, response));
      // Read in chunks of 64 KiB and sent in batches: ends in none of them, over several of each.
      const [start, end] = [1000, 1000 + 2 * 1024 * 1024 + 300 * 1024 + 5];
      const passed: Uint8Array[] = [];
      const { request, progress } = part(`${store.origin}/k`, file.slice(start, end), {
        onBytes: (piece) => passed.push(piece.slice()),
      });

      await createNodeHttpTransport().put(request);

      expect(store.received[0]?.body.equals(bytes.subarray(start, end))).toBe(true);
      expect(Buffer.concat(passed).equals(bytes.subarray(start, end))).toBe(true);
      expect(progress.length).toBeGreaterThan(1);
      expect(progress.at(-1)).toBe(end - start);
    } finally {
      await rm(directory, { recursive: true });
    }
  });

  it('sends openFile slices from reused buffers, every part intact when several go at once', async () => {
    const directory = await mkdtemp(join(tmpdir(), 's3ff-'));
    try {
      const bytes = randomBytes(14 * 1024 * 1024 + 123);
      await writeFile(join(directory, 'file.bin'), bytes);
      const file = await openFile(join(directory, 'file.bin'));
      // A store that reads in small bites with pauses, so that buffers wait on the socket.
      const store = await startStore((request, response) => {
        request.on('data', () => {
          request.pause();
          setTimeout(() => request.resume(), 1);
        });
        store.storeAll(request, response);
      });
      const partSize = 3 * 1024 * 1024 + 512 * 1024;
      const transport = createNodeHttpTransport({ maxSockets: 4 });
      const offsets = Array.from({ length: Math.ceil(bytes.length / partSize) }, (_, index) => index * partSize);
      const passed = offsets.map((): Uint8Array[] => []);

      await Promise.all(
        offsets.map((offset, index) =>
          transport.put(
            part(`${store.origin}/k/${index}`, file.slice(offset, offset + partSize), {
              // A copy: the piece is a reused buffer once the socket took it.
              onBytes: (piece) => passed[index]?.push(Buffer.from(piece)),
            }).request,
          ),
        ),
      );

      expect(store.received).toHaveLength(offsets.length);
      for (const received of store.received) {
        const index = Number(received.url?.split('/').at(-1));
        const expected = bytes.subarray(offsets[index], (offsets[index] as number) + partSize);
        expect(received.body.equals(expected)).toBe(true);
        expect(Buffer.concat(passed[index] as Uint8Array[]).equals(expected)).toBe(true);
      }
    } finally {
      await rm(directory, { recursive: true });
    }
  });

  it('fails a part whose file turned out shorter than when it was opened', async () => {
    const directory = await mkdtemp(join(tmpdir(), 's3ff-'));
    try {
      const path = join(directory, 'file.bin');
      await writeFile(path, randomBytes(3 * 1024 * 1024));
      const file = await openFile(path);
      await truncate(path, 1024 * 1024 + 5);
      const store = await startStore((request, response) => store.storeAll(request, response));

      await expect(createNodeHttpTransport().put(part(`${store.origin}/k`, file).request)).rejects.toThrow(
        'is shorter than when it was opened',
      );
      expect(store.received).toHaveLength(0);
    } finally {
      await rm(directory, { recursive: true });
    }
  });

  it('sends an empty part', async () => {
    const store = await startStore((request, response) => store.storeAll(request, response));
    const response = await createNodeHttpTransport().put(part(`${store.origin}/k`, new Blob([])).request);
    expect(response.status).toBe(200);
    expect(store.received[0]?.headers['content-length']).toBe('0');
  });

  it('keeps the connection for the next part, and opens no more than maxSockets', async () => {
    // Slow answers, so that parts overlap.
    const store = await startStore((request, response) => store.storeAll(request, response, 20));
    const transport = createNodeHttpTransport({ maxSockets: 2 });
    const body = new Blob([randomBytes(100_000)]);

    for (let index = 0; index < 3; index++) await transport.put(part(`${store.origin}/k${index}`, body).request);
    expect(store.connections()).toBe(1);

    const responses = await Promise.all(
      Array.from({ length: 6 }, (_, index) => transport.put(part(`${store.origin}/p${index}`, body).request)),
    );
    expect(responses.every((response) => response.status === 200)).toBe(true);
    expect(store.connections()).toBe(2);
    expect(store.mostActive()).toBe(2);
  });

  it("gives a store's error answer as it is: status and S3 XML", async () => {
    const xml = '<?xml version="1.0"?><Error><Code>InternalError</Code><Message>Try again.</Message></Error>';
    const store = await startStore((request, response) => {
      request.resume();
      request.on('end', () => response.writeHead(500, { 'Content-Type': 'application/xml' }).end(xml));
    });
    const { request, progress } = part(`${store.origin}/k`, new Blob([randomBytes(200_000)]));

    const response = await createNodeHttpTransport().put(request);

    expect(response).toEqual({ status: 500, etag: null, body: xml });
    expect(progress.at(-1)).toBe(200_000);
  });

  it('gives a null ETag when the answer has none', async () => {
    const store = await startStore((request, response) => {
      request.resume();
      request.on('end', () => response.writeHead(200).end());
    });
    const response = await createNodeHttpTransport().put(part(`${store.origin}/k`, new Blob(['abc'])).request);
    expect(response).toEqual({ status: 200, etag: null, body: '' });
  });

  it('takes an answer that comes before the body is through, and stops sending', async () => {
    const store = await startStore((request, response) => {
      request.resume();
      response.writeHead(403).end('<Error><Code>AccessDenied</Code></Error>');
    });
    const size = 64 * 1024 * 1024;
    const { request, progress } = part(`${store.origin}/k`, new Blob([new Uint8Array(size)]));

    const response = await createNodeHttpTransport().put(request);

    expect(response).toMatchObject({ status: 403, body: '<Error><Code>AccessDenied</Code></Error>' });
    expect(progress.at(-1) ?? 0).toBeLessThan(size);
  });

  it('rejects when the connection is reset halfway through the body', async () => {
    const store = await startStore((request) => {
      let seen = 0;
      request.on('data', (chunk: Buffer) => {
        seen += chunk.length;
        if (seen >= 1024 * 1024) request.socket.resetAndDestroy();
      });
    });
    const sending = createNodeHttpTransport().put(
      part(`${store.origin}/k`, new Blob([randomBytes(8 * 1024 * 1024)])).request,
    );
    await expect(sending).rejects.toMatchObject({ code: expect.stringMatching(/^(ECONNRESET|EPIPE)$/) });
  });

  it('rejects when the connection closes before the whole answer came', async () => {
    const store = await startStore((request, response) => {
      request.resume();
      request.on('end', () => {
        response.writeHead(200, { 'Content-Length': '100' }).write('only part of it');
        setTimeout(() => response.socket?.destroy(), 10);
      });
    });
    await expect(createNodeHttpTransport().put(part(`${store.origin}/k`, new Blob(['abc'])).request)).rejects.toThrow();
  });

  it("stops halfway through the body when the signal aborts, with the signal's reason", async () => {
    let reached: () => void = () => {};
    const halfway = new Promise<void>((resolve) => {
      reached = resolve;
    });
    let onStore: IncomingMessage | undefined;
    const store = await startStore((request) => {
      onStore = request;
      readThenHang(1024 * 1024, reached)(request);
    });
    const controller = new AbortController();
    const size = 32 * 1024 * 1024;
    const { request, progress } = part(`${store.origin}/k`, new Blob([new Uint8Array(size)]), {
      signal: controller.signal,
    });

    const sending = createNodeHttpTransport().put(request);
    await halfway;
    const reason = new Error('stop');
    controller.abort(reason);

    await expect(sending).rejects.toBe(reason);
    const sentWhenAborted = progress.at(-1) ?? 0;
    expect(sentWhenAborted).toBeLessThan(size);
    // The store, reading again, finds the connection closed halfway through the body.
    const closed = once(onStore as IncomingMessage, 'close');
    onStore?.resume();
    await expect(closed).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(onStore?.complete).toBe(false);
    expect(progress.at(-1) ?? 0).toBe(sentWhenAborted);
  });

  it('sends nothing for a signal aborted before the start', async () => {
    const store = await startStore((request, response) => store.storeAll(request, response));
    const controller = new AbortController();
    controller.abort(new Error('too late'));
    const { request } = part(`${store.origin}/k`, new Blob(['abc']), { signal: controller.signal });

    await expect(createNodeHttpTransport().put(request)).rejects.toThrow('too late');
    expect(store.connections()).toBe(0);
  });

  it('refuses a URL that is neither http nor https', async () => {
    await expect(createNodeHttpTransport().put(part('ftp://store.test/k', new Blob(['abc'])).request)).rejects.toThrow(
      'cannot send to a ftp: URL',
    );
  });
});

describe('the client in Node, over node:http by default', () => {
  it('reports a part the store refuses, with its S3 code, and a missing ETag as a CORS matter', async () => {
    const loopback = await startLoopbackStack({ partSize: 100 });
    stores.push(loopback);
    const client = new S3FileFieldClient({ baseUrl: loopback.baseUrl, retries: 0 });

    loopback.stack.failPart(2, {
      status: 503,
      body: '<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
    });
    const refused = await client.uploadFile(makeFile(250), knownFieldId).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(PartUploadError);
    expect(refused).toMatchObject({
      partNumber: 2,
      status: 503,
      storeCode: 'SlowDown',
      storeMessage: 'Please reduce your request rate.',
    });

    loopback.stack.failPart(1, 'no-etag');
    const hidden = await client.uploadFile(makeFile(250), knownFieldId).catch((error: unknown) => error);
    expect(hidden).toBeInstanceOf(MissingEtagError);
  });
});

describe('node:http API calls', () => {
  it('posts the JSON body with the headers given, and reads status, headers and body', async () => {
    const store = await startStore((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        store.received.push({
          method: request.method,
          url: request.url,
          headers: request.headers,
          body: Buffer.concat(chunks),
        });
        response.writeHead(429, { 'Retry-After': '3', 'Content-Type': 'application/json' }).end('{"detail":"slow"}');
      });
    });
    const body = JSON.stringify({ file_name: 'été.txt' });

    const response = await createNodeHttpFetch()(`${store.origin}/api/upload-prepare/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Token t' },
      body,
      credentials: 'same-origin',
    });

    expect(response).toMatchObject({ ok: false, status: 429, statusText: 'Too Many Requests' });
    expect(response.headers.get('Retry-After')).toBe('3');
    expect(response.headers.get('X-Absent')).toBeNull();
    expect(await response.text()).toBe('{"detail":"slow"}');
    const [received] = store.received;
    expect(received).toMatchObject({ method: 'POST', url: '/api/upload-prepare/' });
    expect(received?.headers).toMatchObject({ 'content-type': 'application/json', authorization: 'Token t' });
    expect(received?.headers['content-length']).toBe(String(Buffer.byteLength(body)));
    expect(received?.body.toString('utf8')).toBe(body);
  });

  it("stops a call when the signal aborts, with the signal's reason", async () => {
    const store = await startStore(() => {});
    const controller = new AbortController();
    const calling = createNodeHttpFetch()(`${store.origin}/api/upload-finalize/`, {
      method: 'POST',
      headers: {},
      body: '{}',
      credentials: 'same-origin',
      signal: controller.signal,
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(calling).rejects.toBe(reason);
  });

  it('rejects when nothing listens', async () => {
    const store = await startStore(() => {});
    const { origin } = store;
    await store.close();
    await expect(
      createNodeHttpFetch()(`${origin}/api/`, { method: 'POST', headers: {}, body: '{}', credentials: 'same-origin' }),
    ).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
