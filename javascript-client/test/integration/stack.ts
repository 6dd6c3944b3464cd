/**
 * The real stack the integration tests run against: a Django server with
 * s3_file_field, SeaweedFS, and tests/harness/faultproxy.py between them. The
 * Python test tests/test_javascript_client.py starts all three and runs these
 * tests with their addresses in the environment.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, openAsBlob } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { S3FileFieldClient, type S3FileFieldClientOptions } from '../../src/index.js';

export const MiB = 1024 * 1024;

export interface StackEnv {
  /** Where s3_file_field.urls is mounted, e.g. http://localhost:8123/api/s3-upload/. */
  readonly apiBaseUrl: string;
  /** test_app's DRF endpoint that saves a field value: POST {"blob": fieldValue}. */
  readonly resourcesUrl: string;
  readonly fieldId: string;
  /** The proxy in front of the store; the field's storage uses it as its endpoint. */
  readonly proxyUrl: string;
  /** The server's S3FF_PART_SIZE. */
  readonly partSize: number;
  /** Where to write what Python should check in the bucket afterwards (optional). */
  readonly reportPath: string | undefined;
}

function readEnv(): StackEnv {
  const { env } = process;
  const apiBaseUrl = env.S3FF_TEST_API_BASE_URL;
  const proxyUrl = env.S3FF_TEST_PROXY_URL;
  if (!apiBaseUrl || !proxyUrl) {
    // Failing, not skipping: a run that silently tested nothing would look green.
    throw new Error(
      'The integration tests need a running Django + SeaweedFS + fault proxy: run them through ' +
        '`.venv/bin/python -m pytest tests/test_javascript_client.py` from the repository root, ' +
        'which starts the stack and sets S3FF_TEST_API_BASE_URL and S3FF_TEST_PROXY_URL.',
    );
  }
  return {
    apiBaseUrl,
    resourcesUrl: env.S3FF_TEST_RESOURCES_URL ?? new URL('../resources/', apiBaseUrl).href,
    fieldId: env.S3FF_TEST_FIELD_ID ?? 'test_app.Resource.blob',
    proxyUrl: proxyUrl.replace(/\/$/, ''),
    partSize: Number(env.S3FF_TEST_PART_SIZE ?? 5 * MiB),
    reportPath: env.S3FF_TEST_REPORT || undefined,
  };
}

export const stack = readEnv();

// --- the fault proxy ----------------------------------------------------------------------

/** See tests/harness/faultproxy.py: how a failing part PUT fails. */
export type FaultKind = '500' | '503' | 'reset' | 'stall' | 'corrupt';

export type ProxyMode =
  | { mode: 'pass' }
  | { mode: 'fail'; rate: number; seed: number; kinds?: FaultKind[] }
  | { mode: 'throttle'; bytes_per_second?: number; latency_ms?: number };

export interface ProxyStats {
  connections: number;
  requests: number;
  /** S3 operations seen, e.g. `{"UploadPart": 9, "AbortMultipartUpload": 1}`. */
  operations: Record<string, number>;
  /** Presigned PUT attempts per part number; a single-object PUT is part "0". */
  part_puts: Record<string, number>;
  faults: Record<string, number>;
  fault_parts: Record<string, number>;
}

async function control(method: 'GET' | 'POST', action: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${stack.proxyUrl}/__faultproxy__/${action}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } }),
  });
  const json: unknown = await response.json();
  if (!response.ok) throw new Error(`fault proxy ${action}: HTTP ${response.status} ${JSON.stringify(json)}`);
  return json;
}

export const proxy = {
  setMode: async (mode: ProxyMode): Promise<void> => {
    await control('POST', 'mode', mode);
  },
  stats: async (): Promise<ProxyStats> => (await control('GET', 'stats')) as ProxyStats,
  reset: async (): Promise<void> => {
    await control('POST', 'reset');
  },
};

export function sum(counts: Record<string, number>): number {
  return Object.values(counts).reduce((total, count) => total + count, 0);
}

// --- the API, as seen by the client ------------------------------------------------------

export interface ApiCall {
  readonly endpoint: string;
  readonly status: number;
  readonly request: Record<string, unknown>;
  readonly response: Record<string, unknown> | undefined;
}

/** A client of the real API whose calls are recorded, with short backoff so retries stay quick. */
export function recordedClient(options: Partial<S3FileFieldClientOptions> = {}): {
  client: S3FileFieldClient;
  calls: ApiCall[];
} {
  const calls: ApiCall[] = [];
  const recording: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const text = await response.clone().text();
    calls.push({
      endpoint: url.slice(stack.apiBaseUrl.length),
      status: response.status,
      request: JSON.parse(String(init?.body ?? '{}')) as Record<string, unknown>,
      response: text ? (JSON.parse(text) as Record<string, unknown>) : undefined,
    });
    return response;
  };
  const client = new S3FileFieldClient({
    baseUrl: stack.apiBaseUrl,
    fetch: recording,
    retryDelay: { baseMs: 20, maxMs: 200 },
    ...options,
  });
  return { client, calls };
}

/** The body of the (first) answer of `endpoint`, e.g. `upload-prepare/`. */
export function answerOf(calls: readonly ApiCall[], endpoint: string): Record<string, unknown> {
  const call = calls.find((c) => c.endpoint === endpoint && c.status < 300);
  if (!call?.response) throw new Error(`no successful ${endpoint} call among ${calls.map((c) => c.endpoint)}`);
  return call.response;
}

/** One call of the upload API, outside the client. */
export async function postApi(endpoint: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(stack.apiBaseUrl + endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

// --- files -------------------------------------------------------------------------------

export interface TestFile {
  readonly blob: Blob;
  readonly name: string;
  readonly size: number;
  readonly sha256: string;
  readonly path: string;
  /** Base64, as the store's x-amz-checksum-crc32 has it. */
  readonly crc32: string;
}

let workDir: string | undefined;

/** Random bytes in a temporary file, as a disk-backed Blob (read part by part, never whole). */
export async function makeFile(size: number, name = `data-${size}.bin`): Promise<TestFile> {
  workDir ??= await mkdtemp(join(tmpdir(), 's3ff-integration-'));
  const path = join(workDir, `${randomBytes(6).toString('hex')}-${name}`);
  const hash = createHash('sha256');
  let crc = 0;
  const out = createWriteStream(path);
  for (let written = 0; written < size; ) {
    const chunk = randomBytes(Math.min(MiB, size - written));
    hash.update(chunk);
    crc = crc32(chunk, crc);
    if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    written += chunk.byteLength;
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  const crcBytes = Buffer.alloc(4);
  crcBytes.writeUInt32BE(crc);
  return {
    blob: await openAsBlob(path),
    name,
    size,
    sha256: hash.digest('hex'),
    path,
    crc32: crcBytes.toString('base64'),
  };
}

export async function removeFiles(): Promise<void> {
  if (workDir) await rm(workDir, { recursive: true, force: true });
  workDir = undefined;
}

/**
 * Saves `fieldValue` through test_app's REST API, as an app would, and reads the
 * object back through the presigned GET URL the API answers with.
 */
export async function readBack(fieldValue: string): Promise<{ size: number; sha256: string }> {
  const saved = await fetch(stack.resourcesUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ blob: fieldValue }),
  });
  const record = (await saved.json()) as { blob?: unknown };
  if (saved.status !== 201 || typeof record.blob !== 'string') {
    throw new Error(`saving the field value answered ${saved.status}: ${JSON.stringify(record)}`);
  }
  const object = await fetch(record.blob);
  if (!object.ok) throw new Error(`GET of the stored object answered ${object.status}`);
  const bytes = new Uint8Array(await object.arrayBuffer());
  return { size: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') };
}

// --- what Python checks in the bucket afterwards -------------------------------------------

export const report: {
  completed: { objectKey: string; size: number; sha256: string }[];
  aborted: { objectKey: string; uploadId: string }[];
} = { completed: [], aborted: [] };

export async function writeReport(): Promise<void> {
  if (stack.reportPath) await writeFile(stack.reportPath, JSON.stringify(report, null, 2));
}

/** Retries `check` until it passes or `timeoutMs` runs out, for effects that land a little later. */
export async function eventually(check: () => Promise<void>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
