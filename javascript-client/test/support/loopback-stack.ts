/**
 * Serves a FakeStack over real HTTP on 127.0.0.1, so that a client with no
 * injected fetch or transport runs its default Node path end to end.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { apiBaseUrl, FakeStack, type FakeStackOptions } from './fake-stack.js';

export interface LoopbackStack {
  stack: FakeStack;
  baseUrl: string;
  close: () => Promise<void>;
}

export async function startLoopbackStack(options: FakeStackOptions = {}): Promise<LoopbackStack> {
  let stack: FakeStack | undefined;
  const server = createServer(async (req, res) => {
    if (!stack) throw new Error('the stack is not ready');
    const body = await readBody(req);
    const path = req.url ?? '/';
    if (path.startsWith('/api/s3-upload/')) {
      const answer = await stack.fetch(apiBaseUrl + path.slice('/api/s3-upload/'.length), {
        method: req.method ?? 'POST',
        headers: req.headers as Record<string, string>,
        body: body.toString('utf8'),
      });
      res.writeHead(answer.status, Object.fromEntries(answer.headers)).end(Buffer.from(await answer.arrayBuffer()));
      return;
    }
    const headers: Record<string, string> = {};
    for (const name of ['Content-Type', 'If-None-Match', 'Content-MD5', 'x-amz-checksum-crc32']) {
      const value = req.headers[name.toLowerCase()];
      if (typeof value === 'string') headers[name] = value;
    }
    const answer = await stack.transport.put({
      url: `http://127.0.0.1${path}`,
      body: new Blob([new Uint8Array(body)]),
      headers,
      signal: new AbortController().signal,
      onProgress: () => {},
    });
    res.writeHead(answer.status, answer.etag ? { ETag: answer.etag } : {}).end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  stack = new FakeStack({ ...options, storeOrigin: origin });
  return {
    stack,
    baseUrl: `${origin}/api/s3-upload/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
