export type { HeadersSource } from './api.js';
export { S3FileFieldClient, type S3FileFieldClientOptions, type UploadOptions } from './client.js';
export type { AdaptiveConcurrency } from './concurrency.js';
export type { CsrfOptions } from './csrf.js';
export { clientDefaults, defaultConcurrency, defaultNodeConcurrency } from './defaults.js';
export {
  ApiCallError,
  type ApiEndpoint,
  ApiNetworkError,
  MissingEtagError,
  PartChecksumError,
  PartNetworkError,
  PartStalledError,
  PartUploadError,
  S3FileFieldError,
  type S3FileFieldErrorCode,
  UploadAbortedError,
} from './errors.js';
export { type OpenFileOptions, openFile } from './node-file.js';
export type { ProgressListener, UploadProgress, UploadState } from './progress.js';
export type { FinalizedUpload, ObjectChecksum } from './protocol.js';
export { RequestQueue, type RequestQueueOptions } from './queue.js';
export {
  LocalStorageResumeStore,
  type LocalStorageResumeStoreOptions,
  MemoryResumeStore,
  type ResumeRecord,
  type ResumeStore,
  type UnfinishedUpload,
  type UploadFingerprint,
} from './resume.js';
export type { RetryInfo } from './retry.js';
export { createFetchTransport, type FetchTransportOptions } from './transport/fetch.js';
export { createNodeHttpTransport, type NodeHttpTransportOptions } from './transport/node-http.js';
export type { PartPutRequest, PartPutResponse, PartTransport } from './transport/types.js';
export { createXhrTransport } from './transport/xhr.js';
