import { acceptDroppedFiles } from './drop-zone.js';
import { S3FileInputWidget } from './file-input.js';
import { formatBytes } from './format.js';
import { interpolate, readMessages, type WidgetMessages } from './messages.js';
import { type PendingForms, pendingForms } from './pending-forms.js';

/** An upload a form sent back with errors elsewhere renders for the field again. */
interface KeptUpload {
  readonly value: string;
  readonly name: string;
  readonly size: number;
}

/** What a row's own input copies from the field's: what its upload and checks need. */
const rowAttributes = ['accept', 'data-field-id', 'data-s3fileinput', 'data-s3ff-messages', 'data-max-size'];

/**
 * An enhanced `<input type="file" multiple data-s3fileinput>` (`S3MultipleFileField`): every
 * file chosen or dropped becomes a row of its own, which uploads, shows its progress, and can
 * be cancelled, retried or removed as one file's widget can; each finished upload's signed value
 * goes with the form under the field's name. `data-max-files` and `data-max-total-size` are
 * checked before any upload (the server checks them again).
 */
export class S3ManyFilesWidget {
  private readonly messages: WidgetMessages;
  private readonly fieldName: string;
  private readonly root = document.createElement('div');
  private readonly dropZone = document.createElement('div');
  private readonly list = document.createElement('div');
  private readonly status = document.createElement('span');
  private readonly rows = new Set<S3FileInputWidget>();

  constructor(
    readonly input: HTMLInputElement,
    private readonly forms: PendingForms = pendingForms,
  ) {
    this.messages = readMessages(input);
    this.fieldName = input.name;
    this.build();
    for (const kept of keptUploads(input)) this.addRow(undefined, kept);
  }

  private build(): void {
    const { input, messages } = this;
    // Each row carries its own value: the chosen files must not travel with the form.
    input.removeAttribute('name');
    input.required = false;
    this.root.className = 's3ff-many';
    this.dropZone.className = 's3ff-drop';
    this.list.className = 's3ff-list';
    this.status.className = 's3ff-status';
    this.status.setAttribute('role', 'status');
    this.status.setAttribute('aria-live', 'polite');
    const hint = document.createElement('span');
    hint.className = 's3ff-drop-hint';
    hint.textContent = messages.dropHere;
    input.before(this.root);
    this.dropZone.append(input, hint);
    this.root.append(this.dropZone, this.status, this.list);
    input.addEventListener('change', () => {
      this.add([...(input.files ?? [])]);
      input.value = '';
    });
    acceptDroppedFiles(this.dropZone, this.root, input, (files) => this.add(files));
  }

  /** Adds a row for each file the field's limits let in; says which were not, and why. */
  private add(files: readonly File[]): void {
    const maxFiles = optionalNumber(this.input.dataset.maxFiles);
    const maxTotal = optionalNumber(this.input.dataset.maxTotalSize);
    let count = this.rows.size;
    let total = [...this.rows].reduce((sum, row) => sum + row.size, 0);
    const refusals: string[] = [];
    for (const file of files) {
      if (maxFiles !== undefined && count + 1 > maxFiles) {
        refusals.push(interpolate(this.messages.tooMany, { name: file.name, max: String(maxFiles) }));
      } else if (maxTotal !== undefined && total + file.size > maxTotal) {
        refusals.push(interpolate(this.messages.tooLargeTogether, { name: file.name, max: formatBytes(maxTotal) }));
      } else {
        count += 1;
        total += file.size;
        this.addRow(file);
      }
    }
    this.status.textContent = refusals.join(' ');
  }

  private addRow(file: File | undefined, kept?: KeptUpload): void {
    const rowInput = document.createElement('input');
    rowInput.type = 'file';
    rowInput.name = this.fieldName;
    rowInput.dataset.s3ffRow = '';
    for (const name of rowAttributes) {
      const value = this.input.getAttribute(name);
      if (value !== null) rowInput.setAttribute(name, value);
    }
    if (kept !== undefined) {
      rowInput.dataset.s3ffKeptValue = kept.value;
      rowInput.dataset.s3ffKeptName = kept.name;
      rowInput.dataset.s3ffKeptSize = String(kept.size);
    }
    this.list.append(rowInput);
    const row = new S3FileInputWidget(rowInput, this.forms, { onRemoved: () => this.rows.delete(row) });
    this.rows.add(row);
    if (file !== undefined) row.choose(file);
  }
}

function optionalNumber(text: string | undefined): number | undefined {
  const value = Number(text);
  return text === undefined || text === '' || !Number.isFinite(value) ? undefined : value;
}

/** The uploads the server rendered back (`data-s3ff-kept-values`); anything malformed is none. */
function keptUploads(input: HTMLInputElement): KeptUpload[] {
  try {
    const parsed: unknown = JSON.parse(input.dataset.s3ffKeptValues ?? '[]');
    if (!Array.isArray(parsed)) return [];
    return parsed.filter(
      (item): item is KeptUpload =>
        typeof item === 'object' &&
        item !== null &&
        typeof (item as KeptUpload).value === 'string' &&
        typeof (item as KeptUpload).name === 'string' &&
        typeof (item as KeptUpload).size === 'number',
    );
  } catch {
    return [];
  }
}
