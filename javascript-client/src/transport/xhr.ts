import type { PartTransport } from './types.js';

/**
 * Sends parts with XMLHttpRequest: unlike fetch, it reports upload progress
 * byte by byte in every browser, and streams a Blob from disk.
 */
export function createXhrTransport(): PartTransport {
  return {
    reportsProgress: true,
    put: ({ url, body, headers, signal, onProgress }) =>
      new Promise((resolve, reject) => {
        if (signal.aborted) {
          reject(signal.reason);
          return;
        }
        const xhr = new XMLHttpRequest();
        const abortRequest = () => xhr.abort();
        const fail = (error: unknown) => {
          signal.removeEventListener('abort', abortRequest);
          reject(error);
        };
        xhr.open('PUT', url);
        for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
        xhr.upload.onprogress = (event) => onProgress(event.loaded);
        xhr.onload = () => {
          signal.removeEventListener('abort', abortRequest);
          resolve({ status: xhr.status, etag: xhr.getResponseHeader('ETag'), body: xhr.responseText });
        };
        // A CORS refusal also lands here: the browser hides its reason from scripts.
        xhr.onerror = () => fail(new TypeError("network error (or the store's CORS rules refused the request)"));
        xhr.ontimeout = () => fail(new TypeError('the request timed out'));
        xhr.onabort = () => fail(signal.reason);
        signal.addEventListener('abort', abortRequest, { once: true });
        xhr.send(body);
      }),
  };
}
