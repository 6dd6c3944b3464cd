/**
 * The widget script that `S3FileInput`'s form Media loads: it enhances every
 * `<input type="file" data-s3fileinput>` on the page, including those added later
 * (the admin's "Add another" inline rows).
 */
import { S3FileInputWidget } from './file-input.js';
import { S3ManyFilesWidget } from './many-files.js';

const selector = 'input[type="file"][data-s3fileinput]';
const enhanced = new WeakSet<HTMLInputElement>();

function enhance(input: HTMLInputElement): void {
  // The admin keeps an empty template row whose names hold `__prefix__`; it is cloned, not used.
  // A row of a many-files field is enhanced by that field, as it makes it.
  if (enhanced.has(input) || input.name.includes('__prefix__') || input.dataset.s3ffRow !== undefined) {
    return;
  }
  enhanced.add(input);
  if (input.multiple) new S3ManyFilesWidget(input);
  else new S3FileInputWidget(input);
}

function enhanceWithin(root: ParentNode): void {
  if (root instanceof HTMLInputElement && root.matches(selector)) {
    enhance(root);
  }
  for (const input of root.querySelectorAll<HTMLInputElement>(selector)) {
    enhance(input);
  }
}

function start(): void {
  enhanceWithin(document);
  new MutationObserver((records) => {
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (node instanceof Element) {
          enhanceWithin(node);
        }
      }
    }
  }).observe(document.body, { childList: true, subtree: true });
}

if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', start, { once: true });
} else {
  start();
}
