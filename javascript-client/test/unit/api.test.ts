import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ApiConfig, UploadApi } from '../../src/api.js';
import { resolveCsrfOptions } from '../../src/csrf.js';
import { ApiCallError, ApiNetworkError, S3FileFieldError } from '../../src/index.js';

interface SentRequest {
  url: string;
  init: RequestInit;
  headers: Headers;
}

/** An API whose fetch answers with `responses` in turn and records what it was sent. */
function apiAnswering(responses: (() => Response)[], config: Partial<ApiConfig> = {}) {
  const sent: SentRequest[] = [];
  const fetch: typeof globalThis.fetch = async (input, init = {}) => {
    sent.push({ url: String(input), init, headers: new Headers(init.headers) });
    const next = responses.shift();
    if (!next) throw new TypeError('fetch failed');
    return next();
  };
  const api = new UploadApi({
    baseUrl: 'http://django.test/api/s3-upload',
    fetch,
    headers: undefined,
    credentials: 'same-origin',
    csrf: resolveCsrfOptions(undefined),
    retry: {
      policy: { retries: 2, baseDelayMs: 1, maxDelayMs: 1 },
      sleep: async () => {},
      random: () => 0,
      onRetry: undefined,
    },
    ...config,
  });
  return { api, sent };
}

const json =
  (status: number, body: unknown, init: ResponseInit = {}) =>
  () =>
    new Response(JSON.stringify(body), { status, ...init, headers: { 'Content-Type': 'application/json' } });
const text = (status: number, body: string, statusText?: string) => () =>
  new Response(body, { status, ...(statusText ? { statusText } : {}) });

const prepared = {
  upload_signature: 'sig',
  object_key: 'k',
  upload_id: null,
  part_size: 10,
  part_count: 1,
  parts: [{ part_number: 1, size: 5, upload_url: 'https://store.test/1' }],
  part_headers: { 'Content-Type': 'text/plain' },
};
const prepareRequest = { fieldId: 'a.B.c', fileName: 'x.txt', fileSize: 5, contentType: 'text/plain' };
const signal = () => new AbortController().signal;

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('requests', () => {
  it('POSTs JSON to the endpoint under the base URL', async () => {
    const { api, sent } = apiAnswering([json(200, prepared)]);
    const result = await api.prepare(prepareRequest, signal());
    expect(result).toMatchObject({
      uploadSignature: 'sig',
      uploadId: null,
      partHeaders: { 'Content-Type': 'text/plain' },
    });
    expect(sent[0]?.url).toBe('http://django.test/api/s3-upload/upload-prepare/');
    expect(sent[0]?.init).toMatchObject({ method: 'POST', credentials: 'same-origin' });
    expect(sent[0]?.headers.get('Content-Type')).toBe('application/json');
    expect(JSON.parse(String(sent[0]?.init.body))).toEqual({
      field_id: 'a.B.c',
      file_name: 'x.txt',
      file_size: 5,
      content_type: 'text/plain',
    });
  });

  it('calls a fetch that must not be called as a method, like window.fetch', async () => {
    const windowLikeFetch = function (this: unknown) {
      if (this !== undefined && this !== globalThis) throw new TypeError('Illegal invocation');
      return Promise.resolve(json(200, { parts: [] })());
    } as typeof fetch;
    const { api } = apiAnswering([], { fetch: windowLikeFetch });
    await expect(api.status('sig', signal())).resolves.toEqual([]);
  });

  it('leaves content_type out when unknown', async () => {
    const { api, sent } = apiAnswering([json(200, prepared)]);
    await api.prepare({ ...prepareRequest, contentType: undefined }, signal());
    expect(JSON.parse(String(sent[0]?.init.body))).not.toHaveProperty('content_type');
  });

  it('sends static headers, or asks a function before every call', async () => {
    const fixed = apiAnswering([json(200, { parts: [] })], { headers: { Authorization: 'Token abc' } });
    await fixed.api.status('sig', signal());
    expect(fixed.sent[0]?.headers.get('Authorization')).toBe('Token abc');

    let token = 0;
    const fresh = apiAnswering([json(200, { parts: [] }), json(200, { parts: [] })], {
      headers: async () => ({ Authorization: `Bearer ${++token}` }),
    });
    await fresh.api.status('sig', signal());
    await fresh.api.status('sig', signal());
    expect(fresh.sent.map((request) => request.headers.get('Authorization'))).toEqual(['Bearer 1', 'Bearer 2']);
  });

  it('takes headers as a Headers object or as pairs, names in any case', async () => {
    const given = apiAnswering([json(200, { parts: [] })], {
      headers: new Headers({ Authorization: 'Token abc', 'X-Trace': '1' }),
    });
    await given.api.status('sig', signal());
    expect(given.sent[0]?.headers.get('Authorization')).toBe('Token abc');
    expect(given.sent[0]?.headers.get('X-Trace')).toBe('1');

    const pairs = apiAnswering([json(200, { parts: [] })], {
      headers: [
        ['authorization', 'Token xyz'],
        ['CONTENT-TYPE', 'text/plain'],
      ],
    });
    await pairs.api.status('sig', signal());
    expect(pairs.sent[0]?.headers.get('Authorization')).toBe('Token xyz');
    // The API speaks JSON, whatever was given.
    expect(pairs.sent[0]?.headers.get('Content-Type')).toBe('application/json');
  });

  it('sends the finalize parts and reads the answer', async () => {
    const { api, sent } = apiAnswering([json(200, { field_value: 'fv', object_key: 'k', file_size: 15 })]);
    const result = await api.finalize('sig', [{ partNumber: 1, etag: '"e1"' }], signal());
    expect(result).toEqual({ fieldValue: 'fv', objectKey: 'k', fileSize: 15, checksum: null });
    expect(JSON.parse(String(sent[0]?.init.body))).toEqual({
      upload_signature: 'sig',
      parts: [{ part_number: 1, etag: '"e1"' }],
    });
  });

  it('accepts the 204 of upload-abort/, in a single attempt', async () => {
    await expect(apiAnswering([() => new Response(null, { status: 204 })]).api.abort('sig')).resolves.toBeUndefined();
    const failing = apiAnswering([json(503, { detail: 'down' }), json(204, {})]);
    await expect(failing.api.abort('sig')).rejects.toBeInstanceOf(ApiCallError);
    expect(failing.sent).toHaveLength(1);
  });
});

describe('errors', () => {
  it.each([
    [{ detail: 'Signature expired.' }, 'Signature expired.', undefined],
    [
      { parts: [{ etag: ['This field is required.'] }, {}], non_field_errors: ['Bad parts.'] },
      'parts[0].etag: This field is required.; Bad parts.',
      { 'parts[0].etag': ['This field is required.'], non_field_errors: ['Bad parts.'] },
    ],
    [
      { file_size: ['Too large.', 'Really.'] },
      'file_size: Too large. Really.',
      { file_size: ['Too large.', 'Really.'] },
    ],
    [['Refused by a receiver.'], 'Refused by a receiver.', { non_field_errors: ['Refused by a receiver.'] }],
  ])('reads DRF error body %j', async (body, detail, fieldErrors) => {
    const { api } = apiAnswering([json(400, body)]);
    const error = await api.status('sig', signal()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiCallError);
    expect(error).toMatchObject({ endpoint: 'upload-status/', status: 400, detail, fieldErrors });
  });

  it('falls back to the status text for a body that is not JSON, and retries a 502', async () => {
    const { api, sent } = apiAnswering([
      text(502, '<html>Bad Gateway</html>', 'Bad Gateway'),
      text(502, '<html>Bad Gateway</html>', 'Bad Gateway'),
      text(502, '<html>Bad Gateway</html>', 'Bad Gateway'),
    ]);
    await expect(api.status('sig', signal())).rejects.toThrow('upload-status/ failed (HTTP 502): Bad Gateway');
    expect(sent).toHaveLength(3);
  });

  it('reports a network error as an ApiNetworkError after the retries', async () => {
    const { api, sent } = apiAnswering([]);
    const error = await api.status('sig', signal()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiNetworkError);
    expect(error).not.toHaveProperty('status');
    expect(error).toMatchObject({ code: 'network', endpoint: 'upload-status/' });
    expect((error as Error).message).toBe('upload-status/ failed: no response (fetch failed)');
    expect(sent).toHaveLength(3);
  });

  it('says to check baseUrl when a 200 is not JSON', async () => {
    const { api } = apiAnswering([text(200, '<!doctype html><title>Home</title>')]);
    const error = await api.prepare(prepareRequest, signal()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(S3FileFieldError);
    expect(error).toMatchObject({ code: 'protocol' });
    expect((error as Error).message).toContain('is baseUrl (http://django.test/api/s3-upload/) right?');
  });

  it('names the field of an answer of the wrong shape', async () => {
    const { api } = apiAnswering([json(200, { ...prepared, part_count: '1' })]);
    await expect(api.prepare(prepareRequest, signal())).rejects.toThrow(
      'upload-prepare/ answered an unexpected body: the body.part_count should be an integer ≥ 0',
    );
    const parts = apiAnswering([json(200, { parts: [{ part_number: 1, size: 5 }] })]);
    await expect(parts.api.signParts('sig', [1], signal())).rejects.toThrow(
      'the body.parts[0].upload_url should be a string',
    );
  });
});

describe('CSRF', () => {
  function onPage(origin: string, cookie: string) {
    vi.stubGlobal('location', new URL(`${origin}/some/page/`));
    vi.stubGlobal('document', { cookie });
  }

  it("sends Django's csrftoken cookie as X-CSRFToken to the page's origin", async () => {
    onPage('http://django.test', 'sessionid=s; csrftoken=t%3Dk');
    const { api, sent } = apiAnswering([json(200, { parts: [] })]);
    await api.status('sig', signal());
    expect(sent[0]?.headers.get('X-CSRFToken')).toBe('t=k');
  });

  it('reads configured cookie and header names', async () => {
    onPage('http://django.test', 'my_csrf=abc');
    const { api, sent } = apiAnswering([json(200, { parts: [] })], {
      csrf: { cookieName: 'my_csrf', headerName: 'X-My-CSRF' },
    });
    await api.status('sig', signal());
    expect(sent[0]?.headers.get('X-My-CSRF')).toBe('abc');
  });

  it('keeps the token from another origin, and sends nothing when off or absent', async () => {
    onPage('http://elsewhere.test', 'csrftoken=tok');
    const other = apiAnswering([json(200, { parts: [] })]);
    await other.api.status('sig', signal());
    expect(other.sent[0]?.headers.has('X-CSRFToken')).toBe(false);

    onPage('http://django.test', 'csrftoken=tok');
    const off = apiAnswering([json(200, { parts: [] })], { csrf: false });
    await off.api.status('sig', signal());
    expect(off.sent[0]?.headers.has('X-CSRFToken')).toBe(false);

    onPage('http://django.test', 'sessionid=s');
    const absent = apiAnswering([json(200, { parts: [] })]);
    await absent.api.status('sig', signal());
    expect(absent.sent[0]?.headers.has('X-CSRFToken')).toBe(false);
  });

  it('does not override a token given in the headers option', async () => {
    onPage('http://django.test', 'csrftoken=cookie');
    const { api, sent } = apiAnswering([json(200, { parts: [] })], { headers: { 'X-CSRFToken': 'explicit' } });
    await api.status('sig', signal());
    expect(sent[0]?.headers.get('X-CSRFToken')).toBe('explicit');
  });
});
