import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createFetchTransport, createXhrTransport, type PartPutRequest } from '../../src/index.js';

function request(overrides: Partial<PartPutRequest> = {}): PartPutRequest & { progress: number[] } {
  const progress: number[] = [];
  return {
    url: 'https://store.test/part?sig=1',
    body: new Blob([new Uint8Array(300_000).fill(7)]),
    headers: { 'Content-Type': 'image/png' },
    signal: new AbortController().signal,
    onProgress: (sent) => progress.push(sent),
    progress,
    ...overrides,
  };
}

describe('fetch transport', () => {
  it('sends a Node part with byte progress and reads the ETag, against a real HTTP server', async () => {
    let received: { headers: IncomingHttpHeaders; size: number; method: string | undefined } | undefined;
    const server = createServer((req, res) => {
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
      });
      req.on('end', () => {
        received = { headers: req.headers, size, method: req.method };
        res.writeHead(200, { ETag: '"abc123"' }).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const put = request({ url: `http://127.0.0.1:${port}/bucket/key?partNumber=1` });

      const response = await createFetchTransport().put(put);

      expect(response).toEqual({ status: 200, etag: '"abc123"', body: '' });
      expect(received).toMatchObject({ method: 'PUT', size: 300_000 });
      expect(received?.headers['content-length']).toBe('300000');
      expect(received?.headers['content-type']).toBe('image/png');
      expect(put.progress.at(-1)).toBe(300_000);
      expect(put.progress.length).toBeGreaterThan(1);
    } finally {
      server.close();
    }
  });

  it('sends the Blob itself and reports progress once stored when byte progress is off', async () => {
    let init: RequestInit | undefined;
    const fetch: typeof globalThis.fetch = async (_, given) => {
      init = given;
      return new Response('', { status: 200, headers: { ETag: '"e"' } });
    };
    const put = request();
    const response = await createFetchTransport({ fetch, byteProgress: false }).put(put);
    expect(response.etag).toBe('"e"');
    expect(init?.body).toBe(put.body);
    expect(init?.headers).toEqual({ 'Content-Type': 'image/png' });
    expect(put.progress).toEqual([300_000]);
  });

  it("gives the store's answer as it is, and no progress for a refused part", async () => {
    const fetch: typeof globalThis.fetch = async () =>
      new Response('<Error><Code>AccessDenied</Code></Error>', { status: 403 });
    const put = request();
    const response = await createFetchTransport({ fetch, byteProgress: false }).put(put);
    expect(response).toEqual({ status: 403, etag: null, body: '<Error><Code>AccessDenied</Code></Error>' });
    expect(put.progress).toEqual([]);
  });

  it('passes the signal on', async () => {
    const controller = new AbortController();
    const fetch: typeof globalThis.fetch = (_, init) =>
      new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)));
    const sending = createFetchTransport({ fetch }).put(request({ signal: controller.signal }));
    controller.abort(new Error('stop'));
    await expect(sending).rejects.toThrow('stop');
  });
});

/** Enough of XMLHttpRequest to watch the transport drive it. */
class FakeXhr {
  static last: FakeXhr | undefined;
  readonly upload: { onprogress: ((event: { loaded: number }) => void) | null } = { onprogress: null };
  readonly requestHeaders: Record<string, string> = {};
  method = '';
  url = '';
  sent: unknown;
  aborted = false;
  status = 0;
  responseText = '';
  responseHeaders: Record<string, string> = {};
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  ontimeout: (() => void) | null = null;
  onabort: (() => void) | null = null;

  constructor() {
    FakeXhr.last = this;
  }
  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(name: string, value: string) {
    this.requestHeaders[name] = value;
  }
  send(body: unknown) {
    this.sent = body;
  }
  abort() {
    this.aborted = true;
    this.onabort?.();
  }
  getResponseHeader(name: string) {
    return this.responseHeaders[name] ?? null;
  }
  respond(status: number, headers: Record<string, string> = {}, body = '') {
    this.status = status;
    this.responseHeaders = headers;
    this.responseText = body;
    this.onload?.();
  }
}

describe('XHR transport', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    FakeXhr.last = undefined;
  });

  function sendWithXhr(put: PartPutRequest) {
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    const sending = createXhrTransport().put(put);
    const xhr = FakeXhr.last;
    if (!xhr) throw new Error('no XMLHttpRequest was made');
    return { sending, xhr };
  }

  it('PUTs the blob with the part headers and reports upload progress', async () => {
    const put = request();
    const { sending, xhr } = sendWithXhr(put);
    expect([xhr.method, xhr.url, xhr.sent]).toEqual(['PUT', put.url, put.body]);
    expect(xhr.requestHeaders).toEqual({ 'Content-Type': 'image/png' });
    xhr.upload.onprogress?.({ loaded: 1000 });
    xhr.upload.onprogress?.({ loaded: 300_000 });
    xhr.respond(200, { ETag: '"xyz"' });
    await expect(sending).resolves.toEqual({ status: 200, etag: '"xyz"', body: '' });
    expect(put.progress).toEqual([1000, 300_000]);
  });

  it('gives a null ETag when CORS hides it', async () => {
    const { sending, xhr } = sendWithXhr(request());
    xhr.respond(200);
    await expect(sending).resolves.toMatchObject({ etag: null });
  });

  it('rejects on a network error', async () => {
    const { sending, xhr } = sendWithXhr(request());
    xhr.onerror?.();
    await expect(sending).rejects.toThrow(TypeError);
  });

  it('aborts the request when the signal aborts', async () => {
    const controller = new AbortController();
    const { sending, xhr } = sendWithXhr(request({ signal: controller.signal }));
    controller.abort(new Error('stop'));
    await expect(sending).rejects.toThrow('stop');
    expect(xhr.aborted).toBe(true);
  });
});
