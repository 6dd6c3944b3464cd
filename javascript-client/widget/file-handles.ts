/**
 * Chromium's File System Access: a file picked through `showOpenFilePicker` comes with a
 * handle that can be kept (in IndexedDB, through idb-keyval) and read again after a reload,
 * so an unfinished upload resumes without the user finding the file again. Elsewhere the
 * widget uses its file input, and a reload asks for the file.
 */
import { createStore, del, get, set, type UseStore } from 'idb-keyval';

/** What of the File System Access API the widget uses (not in TypeScript's DOM types yet). */
interface ReadableHandle extends FileSystemFileHandle {
  queryPermission?(descriptor: { mode: 'read' }): Promise<PermissionState>;
  requestPermission?(descriptor: { mode: 'read' }): Promise<PermissionState>;
}

type OpenFilePicker = (options?: { multiple?: boolean }) => Promise<ReadableHandle[]>;

function openFilePicker(): OpenFilePicker | undefined {
  const picker = (globalThis as { showOpenFilePicker?: OpenFilePicker }).showOpenFilePicker;
  return typeof picker === 'function' ? picker.bind(globalThis) : undefined;
}

let handleStore: UseStore | undefined;

/** The IndexedDB store of handles, opened on first use; undefined where the page has none. */
function handles(): UseStore | undefined {
  if (handleStore === undefined && typeof indexedDB !== 'undefined') {
    try {
      handleStore = createStore('s3-file-field', 'file-handles');
    } catch {
      return undefined;
    }
  }
  return handleStore;
}

/** Whether files can be picked with a handle to keep, here. */
export function canKeepHandles(): boolean {
  return openFilePicker() !== undefined && handles() !== undefined;
}

/** Asks the user for one file through the browser's picker; undefined if they cancelled. */
export async function pickFile(): Promise<{ file: File; handle: FileSystemFileHandle } | undefined> {
  const picker = openFilePicker();
  if (picker === undefined) return undefined;
  try {
    const [handle] = await picker({ multiple: false });
    return handle === undefined ? undefined : { file: await handle.getFile(), handle };
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') return undefined;
    throw error;
  }
}

/** Keeps the handle of the file an upload (by its resume key) is reading. */
export async function keepHandle(key: string, handle: FileSystemFileHandle): Promise<void> {
  const store = handles();
  if (store !== undefined) await set(key, handle, store).catch(() => {});
}

export async function keptHandle(key: string): Promise<FileSystemFileHandle | undefined> {
  const store = handles();
  if (store === undefined) return undefined;
  return get<FileSystemFileHandle>(key, store).catch(() => undefined);
}

export async function forgetHandle(key: string): Promise<void> {
  const store = handles();
  if (store !== undefined) await del(key, store).catch(() => {});
}

/**
 * The file a kept handle reads, once the user lets the page read it again (the browser may ask:
 * call this from a click); undefined if they do not, or the file is gone.
 */
export async function fileOf(handle: FileSystemFileHandle): Promise<File | undefined> {
  const readable = handle as ReadableHandle;
  try {
    let permission = (await readable.queryPermission?.({ mode: 'read' })) ?? 'granted';
    if (permission !== 'granted') permission = (await readable.requestPermission?.({ mode: 'read' })) ?? 'denied';
    return permission === 'granted' ? await handle.getFile() : undefined;
  } catch {
    return undefined;
  }
}
