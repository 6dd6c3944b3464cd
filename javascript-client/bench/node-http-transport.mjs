// A part transport on node:http, for the benchmark only (not shipped): it measures what the
// client would gain in Node from sending parts with node:http instead of fetch (undici), whose
// streamed request bodies cost about 100 MiB more peak memory for a 256 MiB upload here.
// It plugs in through the client's public `transport` option.
import http from 'node:http';
import https from 'node:https';

// Keep-alive, as fetch's pool does: a part after another reuses the connection.
const agents = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) };

/** Resolves when `request` can take more bytes, or has closed. */
function writable(request) {
  return new Promise((resolve) => {
    const done = () => {
      request.off('drain', done);
      request.off('close', done);
      resolve();
    };
    request.on('drain', done);
    request.on('close', done);
  });
}

/** Streams `body` into `request` with backpressure, reporting the bytes handed to the socket. */
async function sendBody(request, body, onProgress) {
  const reader = body.stream().getReader();
  let sent = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (request.destroyed) return;
      sent += value.byteLength;
      if (!request.write(value)) await writable(request);
      onProgress(sent);
    }
    request.end();
  } catch (error) {
    request.destroy(error);
  } finally {
    reader.cancel().catch(() => {});
  }
}

export function createNodeHttpTransport() {
  return {
    put({ url, body, headers, signal, onProgress }) {
      return new Promise((resolve, reject) => {
        const target = new URL(url);
        const client = target.protocol === 'https:' ? https : http;
        const request = client.request(
          target,
          {
            method: 'PUT',
            headers: { ...headers, 'Content-Length': String(body.size) },
            agent: agents[target.protocol],
            signal,
          },
          (response) => {
            const chunks = [];
            response.on('data', (chunk) => chunks.push(chunk));
            response.on('error', reject);
            response.on('end', () =>
              resolve({
                status: response.statusCode ?? 0,
                etag: response.headers.etag ?? null,
                body: Buffer.concat(chunks).toString('utf8'),
              }),
            );
          },
        );
        request.on('error', reject);
        sendBody(request, body, onProgress);
      });
    },
  };
}
