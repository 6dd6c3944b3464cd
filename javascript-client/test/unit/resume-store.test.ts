import { describe, expect, it } from 'vitest';
import { LocalStorageResumeStore, MemoryResumeStore, type ResumeRecord } from '../../src/index.js';
import { resumeKey } from '../../src/resume.js';

/** The Storage interface over a Map, as a browser's localStorage behaves. */
class MapStorage implements Storage {
  private readonly items = new Map<string, string>();
  get length() {
    return this.items.size;
  }
  clear() {
    this.items.clear();
  }
  getItem(key: string) {
    return this.items.get(key) ?? null;
  }
  key(index: number) {
    return [...this.items.keys()][index] ?? null;
  }
  removeItem(key: string) {
    this.items.delete(key);
  }
  setItem(key: string, value: string) {
    this.items.set(key, value);
  }
  keys() {
    return [...this.items.keys()];
  }
}

const day = 24 * 60 * 60 * 1000;

function record(createdAt: number): ResumeRecord {
  return {
    uploadSignature: 'sig-1',
    objectKey: 'uploads/a.bin',
    multipart: true,
    partSize: 10,
    partCount: 3,
    partHeaders: {},
    createdAt,
  };
}

describe('LocalStorageResumeStore', () => {
  it('keeps records under its prefix, across instances', () => {
    const storage = new MapStorage();
    new LocalStorageResumeStore({ storage, now: () => 0 }).set('k', record(0));
    expect(storage.keys()).toEqual(['s3-file-field:resume:k']);
    expect(new LocalStorageResumeStore({ storage, now: () => 0 }).get('k')).toEqual(record(0));
  });

  it('deletes', () => {
    const store = new LocalStorageResumeStore({ storage: new MapStorage(), now: () => 0 });
    store.set('k', record(0));
    store.delete('k');
    expect(store.get('k')).toBeUndefined();
  });

  it('treats corrupt and foreign values as absent', () => {
    const storage = new MapStorage();
    storage.setItem('s3-file-field:resume:a', '{not json');
    storage.setItem('s3-file-field:resume:b', '{"uploadSignature": 3}');
    const store = new LocalStorageResumeStore({ storage, now: () => 0 });
    expect(store.get('a')).toBeUndefined();
    expect(store.get('b')).toBeUndefined();
    expect(storage.length).toBe(0);
  });

  it('drops records older than the maximum age, leaving other keys alone', () => {
    const storage = new MapStorage();
    storage.setItem('unrelated', 'keep me');
    const clock = { now: 0 };
    const store = new LocalStorageResumeStore({ storage, now: () => clock.now, maxAgeMs: 7 * day });
    store.set('old', record(0));
    clock.now = 8 * day;
    expect(store.get('old')).toBeUndefined();
    store.set('stale', record(0));
    storage.setItem('s3-file-field:resume:stale', JSON.stringify(record(0)));
    store.set('new', record(clock.now));
    expect(storage.keys().sort()).toEqual(['s3-file-field:resume:new', 'unrelated']);
  });
});

describe('LocalStorageResumeStore.unfinished', () => {
  const fingerprint = {
    apiBaseUrl: '/api/',
    fieldId: 'a.B.c',
    fileName: 'x.bin',
    fileSize: 3,
    lastModified: 1,
    contentType: undefined,
  };

  it("lists one field's uploads, newest first, younger than the age asked for", () => {
    const storage = new MapStorage();
    const store = new LocalStorageResumeStore({ storage, now: () => 10 * day });
    store.set(resumeKey(fingerprint), { ...record(9 * day), storedParts: 2 });
    store.set(resumeKey({ ...fingerprint, fileName: 'newer.bin' }), record(10 * day - 1));
    store.set(resumeKey({ ...fingerprint, fileName: 'old.bin' }), record(7 * day));
    store.set(resumeKey({ ...fingerprint, fieldId: 'a.B.other' }), record(10 * day));
    store.set(resumeKey({ ...fingerprint, apiBaseUrl: '/elsewhere/' }), record(10 * day));
    storage.setItem('s3-file-field:resume:not a fingerprint', JSON.stringify(record(10 * day)));

    const found = store.unfinished('/api/', 'a.B.c', 2 * day);

    expect(found.map((upload) => upload.fingerprint.fileName)).toEqual(['newer.bin', 'x.bin']);
    expect(found[1]?.fingerprint).toEqual(fingerprint);
    expect(found[1]?.record.storedParts).toBe(2);
    expect(store.unfinished('/api/', 'a.B.c').map((upload) => upload.fingerprint.fileName)).toHaveLength(3);
  });
});

describe('MemoryResumeStore', () => {
  it('gets, sets and deletes', () => {
    const store = new MemoryResumeStore();
    store.set('k', record(0));
    expect(store.get('k')).toEqual(record(0));
    store.delete('k');
    expect(store.get('k')).toBeUndefined();
  });
});

describe('resumeKey', () => {
  it('differs when any part of the fingerprint differs', () => {
    const base = {
      apiBaseUrl: '/api/',
      fieldId: 'a.B.c',
      fileName: 'x.bin',
      fileSize: 3,
      lastModified: 1,
      contentType: 'image/png',
    };
    const variants = [
      base,
      { ...base, apiBaseUrl: '/other/' },
      { ...base, fieldId: 'a.B.d' },
      { ...base, fileName: 'y.bin' },
      { ...base, fileSize: 4 },
      { ...base, lastModified: undefined },
      { ...base, contentType: undefined },
    ];
    expect(new Set(variants.map(resumeKey)).size).toBe(variants.length);
  });
});
