import {
  clientDefaults,
  LocalStorageResumeStore,
  RequestQueue,
  S3FileFieldClient,
  type S3FileFieldClientOptions,
  S3FileFieldError,
  type UnfinishedUpload,
  UploadAbortedError,
  type UploadProgress,
} from '../src/index.js';
import { resumeKey } from '../src/resume.js';
import { isAccepted } from './accept.js';
import { acceptDroppedFiles, putInInput } from './drop-zone.js';
import { canKeepHandles, fileOf, forgetHandle, keepHandle, keptHandle, pickFile } from './file-handles.js';
import { formatBytes, formatDuration, formatPercent } from './format.js';
import { formsetGroup, spreadOverNewRows } from './formset-rows.js';
import { interpolate, readMessages, type WidgetMessages } from './messages.js';
import { type PendingForms, pendingForms } from './pending-forms.js';
import { type ResizeRule, resizedImage, resizeRule } from './resize.js';

type WidgetState = 'idle' | 'uploading' | 'done' | 'error';

/** The event dispatched on the file input once its upload is finalized. */
export const uploadCompleteEvent = 's3-file-field:upload-complete';

export interface UploadCompleteDetail {
  readonly fieldValue: string;
  readonly file: File;
}

/**
 * Where the widget departs from the client's defaults: a person is watching, so
 * fewer, shorter retries, and an outage turns into an error with a Retry button within seconds.
 */
const widgetDefaults = {
  retries: 3,
  retryDelay: { baseMs: 500, maxMs: 4000 },
} as const satisfies Partial<S3FileFieldClientOptions>;

/** One bound on part PUTs for every file field of the page, however many files are picked at once. */
const pageQueue = new RequestQueue(clientDefaults.concurrency);

/**
 * Where the page remembers unfinished uploads, to resume them after a reload; none where
 * the page may not use localStorage (some sandboxed frames throw on touching it).
 */
const resumeStore = ((): LocalStorageResumeStore | undefined => {
  try {
    const store = new LocalStorageResumeStore();
    store.unfinished('', '');
    return store;
  } catch {
    return undefined;
  }
})();

const clients = new Map<string, S3FileFieldClient>();

function clientFor(baseUrl: string): S3FileFieldClient {
  let client = clients.get(baseUrl);
  if (client === undefined) {
    client = new S3FileFieldClient({ baseUrl, queue: pageQueue, resume: resumeStore ?? false, ...widgetDefaults });
    clients.set(baseUrl, client);
  }
  return client;
}

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

/** How a widget that is one row of a many-files field (see many-files.ts) differs. */
export interface RowOptions {
  /** Removing the file removes the row. */
  readonly onRemoved: () => void;
}

/**
 * One enhanced `<input type="file" data-s3fileinput>`: the file goes straight to the store,
 * and a hidden input of the same name carries the signed value to the form.
 */
export class S3FileInputWidget {
  readonly input: HTMLInputElement;
  private readonly messages: WidgetMessages;
  private readonly forms: PendingForms;
  private readonly fieldName: string;
  private readonly root = element('div', 's3ff');
  private readonly dropZone = element('div', 's3ff-drop');
  private readonly fileLine = element('div', 's3ff-file');
  private readonly preview = element('canvas', 's3ff-preview');
  private readonly fileName = element('span', 's3ff-name');
  private readonly fileSize = element('span', 's3ff-size');
  private readonly progressBar = element('progress', 's3ff-progress');
  private readonly progressText = element('span', 's3ff-progress-text');
  private readonly status = element('span', 's3ff-status');
  /** Progress for screen readers only: the visible progress line is not announced. */
  private readonly announcer = element('span', 's3ff-announce');
  private readonly cancelButton = element('button', 's3ff-cancel');
  private readonly retryButton = element('button', 's3ff-retry');
  private readonly removeButton = element('button', 's3ff-remove');
  private readonly discardButton = element('button', 's3ff-discard');
  private readonly resumeButton = element('button', 's3ff-resume');
  private readonly valueInput = element('input', 's3ff-value');
  private state: WidgetState = 'idle';
  private file: File | undefined;
  private controller: AbortController | undefined;
  private announcedQuarter = -1;
  /** An upload of this field a reload cut short, offered to resume until a file is chosen. */
  private resumable: UnfinishedUpload | undefined;
  /** The kept handle of its file (Chromium), to resume it without asking for the file. */
  private resumableHandle: FileSystemFileHandle | undefined;
  /** The file input's own `required`, which a kept upload stands in for (no file is chosen in it). */
  private readonly required: boolean;

  constructor(
    input: HTMLInputElement,
    forms: PendingForms = pendingForms,
    private readonly row?: RowOptions,
  ) {
    this.input = input;
    this.forms = forms;
    this.messages = readMessages(input);
    this.fieldName = input.name;
    this.required = input.required;
    this.build();
    this.setState('idle');
    this.keepRendered();
    if (this.state === 'idle' && row === undefined) this.offerResume();
  }

  /** Uploads `file`, as if chosen in the input. */
  choose(file: File): void {
    this.start(file);
  }

  /** The size of the file chosen or kept: what a many-files field counts against its limit. */
  get size(): number {
    return this.file?.size ?? Number(this.input.dataset.s3ffKeptSize ?? 0);
  }

  get busy(): boolean {
    return this.state === 'uploading';
  }

  get failed(): boolean {
    return this.state === 'error';
  }

  /**
   * A form sent back with errors elsewhere renders the upload it was sent with (signed, in
   * `data-s3ff-kept-value`): it is carried again as it was, with no second upload.
   */
  private keepRendered(): void {
    const { s3ffKeptValue: value, s3ffKeptName: name = '', s3ffKeptSize: size = '0' } = this.input.dataset;
    if (value === undefined || value === '') {
      return;
    }
    this.valueInput.value = value;
    this.input.required = false;
    this.fileName.textContent = name;
    this.fileSize.textContent = formatBytes(Number(size));
    this.preview.hidden = true;
    this.setState('done');
    this.say(interpolate(this.messages.kept, { name, size: formatBytes(Number(size)) }));
  }

  /**
   * After a reload (or a crash) in the middle of an upload: says how far it got and asks
   * for the same file again, of which only the missing parts are sent (the client checks it
   * is the same: name, size, time, and its first part's checksum).
   */
  private offerResume(): void {
    const { s3fileinput: baseUrl = '', fieldId = '', s3ffResumeMaxAge } = this.input.dataset;
    const maxAgeMs = Number(s3ffResumeMaxAge) * 1000;
    // The server's signatures last this long: an older upload cannot be finished.
    if (resumeStore === undefined || !(maxAgeMs > 0)) return;
    const [newest] = resumeStore.unfinished(baseUrl, fieldId, maxAgeMs);
    if (newest === undefined) return;
    this.resumable = newest;
    const { fileName, fileSize } = newest.fingerprint;
    const stored = Math.min(fileSize, (newest.record.storedParts ?? 0) * newest.record.partSize);
    this.fileName.textContent = fileName;
    this.fileSize.textContent = formatBytes(fileSize);
    this.fileLine.hidden = false;
    this.preview.hidden = true;
    this.discardButton.hidden = false;
    this.root.dataset.resumable = 'true';
    this.say(interpolate(this.messages.resumable, { name: fileName, percent: formatPercent(stored, fileSize) }));
    void keptHandle(newest.key).then((handle) => {
      if (handle === undefined || this.resumable !== newest) return;
      this.resumableHandle = handle;
      this.resumeButton.hidden = false;
    });
  }

  /** Resumes from the kept handle: the browser may ask the user to let the page read the file again. */
  private async resumeFromHandle(): Promise<void> {
    const handle = this.resumableHandle;
    const file = handle === undefined ? undefined : await fileOf(handle);
    if (file !== undefined) this.startFromPicker(file);
  }

  /** Uploads a file that did not come through the input, which is kept in step (`required`). */
  private startFromPicker(file: File): void {
    putInInput(this.input, file, false);
    this.start(file);
  }

  /** The key the client remembers an upload of `file` under, from this input. */
  private resumeKeyOf(file: File): string {
    return resumeKey({
      apiBaseUrl: this.input.dataset.s3fileinput ?? '',
      fieldId: this.input.dataset.fieldId ?? '',
      fileName: file.name,
      fileSize: file.size,
      lastModified: file.lastModified,
      contentType: file.type || undefined,
    });
  }

  /** Chromium: the file picked with a handle, kept so that a reload can resume without asking. */
  private async pickKeepingHandle(): Promise<void> {
    const picked = await pickFile();
    if (picked === undefined) return;
    await keepHandle(this.resumeKeyOf(picked.file), picked.handle);
    this.startFromPicker(picked.file);
  }

  /** Gives up the upload offered to resume: forgotten here, aborted on the store. */
  private discard(): void {
    const unfinished = this.resumable;
    this.endOffer();
    this.fileLine.hidden = true;
    this.say('');
    if (unfinished !== undefined) {
      void clientFor(this.input.dataset.s3fileinput ?? '').forget(unfinished);
      void forgetHandle(unfinished.key);
    }
  }

  private endOffer(): void {
    this.resumable = undefined;
    this.resumableHandle = undefined;
    this.discardButton.hidden = true;
    this.resumeButton.hidden = true;
    delete this.root.dataset.resumable;
  }

  /** Drops the chosen file, its upload or its failure: the form goes without it (or with what it had). */
  private remove(): void {
    if (this.row !== undefined) {
      this.controller?.abort();
      this.forms.forget(this);
      this.root.remove();
      this.row.onRemoved();
      return;
    }
    this.controller?.abort();
    this.controller = undefined;
    this.file = undefined;
    this.input.value = '';
    this.valueInput.value = '';
    this.input.required = this.required;
    this.setState('idle');
    this.say('');
    this.forms.settled(this, false);
  }

  private build(): void {
    const { input, messages } = this;
    // From now on the hidden input carries the field: the file's bytes must not travel with the form.
    input.removeAttribute('name');
    input.dataset.s3ffName = this.fieldName;
    this.valueInput.type = 'hidden';
    this.valueInput.name = this.fieldName;
    this.valueInput.value = '';

    this.dropZone.dataset.dropLabel = messages.dropHere;
    if (this.row !== undefined) this.root.classList.add('s3ff-row');
    input.before(this.root);
    this.dropZone.append(input, element('span', 's3ff-drop-hint', messages.dropHere));
    this.preview.width = 64;
    this.preview.height = 64;
    this.preview.setAttribute('aria-hidden', 'true');
    this.fileLine.append(this.preview, this.fileName, this.fileSize);
    this.progressBar.max = 100;
    this.progressBar.value = 0;
    this.progressBar.setAttribute('aria-label', messages.progressLabel);
    this.status.setAttribute('role', 'status');
    this.status.setAttribute('aria-live', 'polite');
    this.announcer.setAttribute('aria-live', 'polite');
    for (const [button, label] of [
      [this.cancelButton, messages.cancel],
      [this.retryButton, messages.retry],
      [this.removeButton, messages.remove],
      [this.discardButton, messages.discard],
      [this.resumeButton, messages.resume],
    ] as const) {
      button.type = 'button';
      button.textContent = label;
    }
    this.root.append(
      this.dropZone,
      this.fileLine,
      this.progressBar,
      this.progressText,
      this.status,
      this.announcer,
      this.cancelButton,
      this.retryButton,
      this.removeButton,
      this.discardButton,
      this.resumeButton,
      this.valueInput,
    );

    input.addEventListener('change', () => {
      const chosen = input.files?.[0];
      if (chosen !== undefined) {
        this.start(chosen);
      }
    });
    this.cancelButton.addEventListener('click', () => this.controller?.abort());
    this.removeButton.addEventListener('click', () => this.remove());
    this.discardButton.addEventListener('click', () => this.discard());
    this.discardButton.hidden = true;
    this.resumeButton.addEventListener('click', () => void this.resumeFromHandle());
    this.resumeButton.hidden = true;
    if (this.row === undefined && input.dataset.s3ffKeepHandle !== undefined && resumeStore && canKeepHandles()) {
      // Chromium, where the field opts in: the browser's picker instead of the input's, for a
      // handle a reload can read again.
      input.addEventListener('click', (event) => {
        event.preventDefault();
        void this.pickKeepingHandle();
      });
    }
    this.retryButton.addEventListener('click', () => {
      if (this.file !== undefined) {
        this.start(this.file);
      }
    });
    acceptDroppedFiles(this.dropZone, this.root, input, (files) => this.onDrop(files));
    this.forms.watch(this);
  }

  private onDrop(files: readonly File[]): void {
    const [first, ...others] = files;
    if (first === undefined) return;
    putInInput(this.input, first, true);
    // Several files on a row of a formset (the admin's inlines): a new row for each other one.
    if (others.length > 0 && formsetGroup(this.fieldName) !== undefined) {
      void spreadOverNewRows(this.fieldName, others).then((left) => {
        if (left.length > 0) {
          this.say(interpolate(this.messages.noMoreRows, { names: left.map((file) => file.name).join(', ') }));
        }
      });
    }
  }

  private start(file: File): void {
    this.endOffer();
    this.controller?.abort();
    this.file = file;
    this.valueInput.value = '';
    this.input.required = this.required;
    this.showFile(file);
    const rule = resizeRule(this.input);
    if (rule === undefined) this.sendChecked(file);
    else void this.resizeThenSend(file, rule);
  }

  /** Checks `file` against the field's limits, then uploads it. */
  private sendChecked(file: File): void {
    const rejection = this.check(file);
    if (rejection !== undefined) {
      this.input.value = '';
      this.fail(rejection, false);
      return;
    }
    void this.upload(file);
  }

  /** Shrinks an image as the field asks (in a Worker), then checks and uploads what came out. */
  private async resizeThenSend(file: File, rule: ResizeRule): Promise<void> {
    const controller = new AbortController();
    this.controller = controller;
    this.setState('uploading');
    this.say(interpolate(this.messages.resizing, { name: file.name }));
    const resized = await resizedImage(file, rule);
    if (this.controller !== controller) return;
    if (controller.signal.aborted) {
      this.input.value = '';
      this.setState('idle');
      this.say(this.messages.cancelled);
      this.forms.settled(this, false);
      return;
    }
    this.fileSize.textContent = formatBytes(resized.size);
    this.sendChecked(resized);
  }

  /** The field's limits, checked before any request; the server checks them again. */
  private check(file: File): string | undefined {
    const values = { name: file.name, size: formatBytes(file.size) };
    const maxSize = this.input.dataset.maxSize;
    if (maxSize !== undefined && file.size > Number(maxSize)) {
      return interpolate(this.messages.tooLarge, { ...values, max: formatBytes(Number(maxSize)) });
    }
    const accept = this.input.accept;
    if (accept && !isAccepted(accept, file)) {
      return interpolate(this.messages.notAccepted, { ...values, accept });
    }
    return undefined;
  }

  private async upload(file: File): Promise<void> {
    const controller = new AbortController();
    this.controller = controller;
    this.announcedQuarter = -1;
    this.setState('uploading');
    this.say(interpolate(this.messages.preparing, { name: file.name }));
    this.announcer.textContent = '';
    const baseUrl = this.input.dataset.s3fileinput ?? '';
    const fieldId = this.input.dataset.fieldId ?? '';
    try {
      const fieldValue = await clientFor(baseUrl).uploadFile(file, fieldId, {
        signal: controller.signal,
        onProgress: (progress) => {
          if (this.controller === controller) {
            this.showProgress(file, progress);
          }
        },
      });
      if (this.controller !== controller) {
        return;
      }
      this.valueInput.value = fieldValue;
      if (this.file !== undefined) void forgetHandle(this.resumeKeyOf(this.file));
      this.setState('done');
      this.say(interpolate(this.messages.done, { name: file.name, size: formatBytes(file.size) }));
      const detail: UploadCompleteDetail = { fieldValue, file };
      this.input.dispatchEvent(new CustomEvent(uploadCompleteEvent, { bubbles: true, detail }));
      this.forms.settled(this, true);
    } catch (error) {
      if (this.controller !== controller) {
        return;
      }
      if (error instanceof UploadAbortedError) {
        if (this.file !== undefined) void forgetHandle(this.resumeKeyOf(this.file));
        this.input.value = '';
        this.setState('idle');
        this.say(this.messages.cancelled);
        this.forms.settled(this, false);
        return;
      }
      const reason = error instanceof S3FileFieldError || error instanceof Error ? error.message : String(error);
      this.fail(interpolate(this.messages.failed, { name: file.name, reason }), true);
    }
  }

  private fail(message: string, retryable: boolean): void {
    this.setState('error');
    this.retryButton.hidden = !retryable;
    this.say(message);
    this.forms.settled(this, false);
  }

  private showFile(file: File): void {
    this.fileName.textContent = file.name;
    this.fileSize.textContent = formatBytes(file.size);
    this.fileLine.hidden = false;
    this.preview.hidden = true;
    if (file.type.startsWith('image/') && typeof createImageBitmap === 'function') {
      // Drawn on a canvas: a blob: or data: URL would need an img-src CSP exception.
      createImageBitmap(file)
        .then((bitmap) => {
          if (this.file !== file) {
            return;
          }
          const context = this.preview.getContext('2d');
          const scale = Math.min(this.preview.width / bitmap.width, this.preview.height / bitmap.height, 1);
          const width = bitmap.width * scale;
          const height = bitmap.height * scale;
          context?.clearRect(0, 0, this.preview.width, this.preview.height);
          context?.drawImage(
            bitmap,
            (this.preview.width - width) / 2,
            (this.preview.height - height) / 2,
            width,
            height,
          );
          bitmap.close();
          this.preview.hidden = false;
        })
        .catch(() => {
          this.preview.hidden = true;
        });
    }
  }

  private showProgress(file: File, progress: UploadProgress): void {
    if (progress.state === 'finalizing') {
      this.progressBar.value = 100;
      this.say(this.messages.finalizing);
      return;
    }
    if (progress.state !== 'uploading') {
      return;
    }
    const percent = formatPercent(progress.uploaded, progress.total);
    if (this.status.textContent === interpolate(this.messages.preparing, { name: file.name })) {
      // Bytes are moving: the progress line says the rest, and a waiting notice must stay.
      this.say('');
    }
    this.progressBar.value = progress.total === 0 ? 100 : (progress.uploaded / progress.total) * 100;
    const speed = progress.bytesPerSecond;
    this.progressText.textContent = interpolate(this.messages.progress, {
      percent,
      uploaded: formatBytes(progress.uploaded),
      total: formatBytes(progress.total),
      speed: speed ? `${formatBytes(speed)}/s` : '…',
      remaining: speed ? formatDuration((progress.total - progress.uploaded) / speed) : '…',
    });
    // Screen readers hear each quarter, not every progress event.
    const quarter = Math.floor((progress.total === 0 ? 1 : progress.uploaded / progress.total) * 4);
    if (quarter !== this.announcedQuarter && quarter < 4) {
      this.announcedQuarter = quarter;
      this.announcer.textContent = interpolate(this.messages.uploading, {
        name: file.name,
        percent: String(quarter * 25),
      });
    }
  }

  /** Shown while an upload blocks the form's submission. */
  showWaiting(): void {
    this.say(this.messages.waitForUpload);
  }

  /** Shown when the form is sent while this field's file is not uploaded: the send is stopped. */
  showNotUploaded(): void {
    this.say(interpolate(this.messages.notUploaded, { name: this.file?.name ?? '' }));
    (this.retryButton.hidden ? this.removeButton : this.retryButton).focus();
  }

  private say(text: string): void {
    this.status.textContent = text;
  }

  private setState(state: WidgetState): void {
    this.state = state;
    this.root.dataset.state = state;
    const uploading = state === 'uploading';
    this.progressBar.hidden = !uploading;
    this.progressText.hidden = !uploading;
    this.cancelButton.hidden = !uploading;
    this.retryButton.hidden = state !== 'error';
    this.removeButton.hidden = state !== 'done' && state !== 'error';
    this.fileLine.hidden = state === 'idle';
    if (uploading) {
      this.progressBar.value = 0;
      this.progressText.textContent = '';
    }
  }
}
