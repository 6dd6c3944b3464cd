/// <reference types="node" />
// Node's own declarations, for the types of this file and the Node transport:
// the modules are imported at run time, on first use, so that the package
// loads (and browser bundles leave this out, see build.mjs) where there is no node:http.
import type { Agent, AgentOptions, ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import type { ApiFetch, ApiResponse } from './api.js';

/** node:http or node:https, and a keep-alive agent of its own. */
export interface NodeHttpSender {
  readonly request: (url: URL, options: RequestOptions) => ClientRequest;
  readonly agent: Agent;
}

/**
 * Gives the sender for a URL's protocol, loading its module on first use
 * (only the one needed: node:https loads TLS).
 */
export function nodeHttpSenders(agentOptions: AgentOptions): (protocol: string) => Promise<NodeHttpSender> {
  const senders = new Map<string, Promise<NodeHttpSender>>();
  return (protocol) => {
    let sender = senders.get(protocol);
    if (!sender) {
      sender = loadSender(protocol, agentOptions);
      senders.set(protocol, sender);
    }
    return sender;
  };
}

async function loadSender(protocol: string, agentOptions: AgentOptions): Promise<NodeHttpSender> {
  const module =
    protocol === 'https:' ? await import('node:https') : protocol === 'http:' ? await import('node:http') : undefined;
  if (!module) throw new TypeError(`cannot send to a ${protocol} URL`);
  // An idle kept-alive connection does not keep the process alive (the agent unrefs it).
  const agent = new module.Agent({ ...agentOptions, keepAlive: true });
  return { request: (url, options) => module.request(url, options), agent };
}

/**
 * A request that hears nothing for this long fails (and is retried), as with
 * Node's fetch, which gives a silent server 300 s.
 */
const idleTimeoutMs = 300_000;

/** Fails `request` after {@link idleTimeoutMs} without a byte either way. */
export function failWhenIdle(request: ClientRequest): void {
  request.setTimeout(idleTimeoutMs, () =>
    request.destroy(new Error(`no data from the server for ${idleTimeoutMs / 1000} s`)),
  );
}

/**
 * The API calls over node:http, the default in Node. Node's fetch would do, but
 * loading it (undici) costs some 14 MiB of memory and CPU for two small calls.
 * Like Node's fetch, it keeps no cookies (`credentials` has no meaning here).
 */
export function createNodeHttpFetch(): ApiFetch {
  const senderFor = nodeHttpSenders({});
  return async (input, init) => {
    init.signal?.throwIfAborted();
    const url = new URL(input);
    const sender = await senderFor(url.protocol);
    const body = new TextEncoder().encode(init.body);
    return new Promise<ApiResponse>((resolve, reject) => {
      const request = sender.request(url, {
        method: init.method,
        agent: sender.agent,
        headers: { ...init.headers, 'content-length': String(body.byteLength) },
        ...(init.signal ? { signal: init.signal } : {}),
      });
      failWhenIdle(request);
      // With `signal`, Node destroys the request and reports an AbortError here.
      request.on('error', (error) => reject(init.signal?.aborted ? init.signal.reason : error));
      request.on('response', (response: IncomingMessage) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
        });
        response.on('error', reject);
        response.on('close', () => {
          if (!response.complete) reject(new Error('the connection closed before the whole answer came'));
        });
        response.on('end', () => resolve(answer(response, text)));
      });
      request.end(body);
    });
  };
}

function answer(response: IncomingMessage, text: string): ApiResponse {
  const status = response.statusCode ?? 0;
  return {
    ok: status >= 200 && status < 300,
    status,
    statusText: response.statusMessage ?? '',
    headers: {
      get: (name) => {
        const value = response.headers[name.toLowerCase()];
        return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
      },
    },
    text: async () => text,
  };
}
