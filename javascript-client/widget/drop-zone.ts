/**
 * What the widget's file inputs share: a zone that takes files dragged onto it, and putting a
 * file chosen some other way (dropped, picked through File System Access) into an input, so
 * that its `required` and the name it shows stay true.
 */

/** Makes `zone` take files dropped on it for `input` (unless disabled), marking `root` while they hover. */
export function acceptDroppedFiles(
  zone: HTMLElement,
  root: HTMLElement,
  input: HTMLInputElement,
  take: (files: File[]) => void,
): void {
  const over = (event: DragEvent) => {
    if (input.disabled || !event.dataTransfer?.types.includes('Files')) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
    root.classList.add('s3ff-dragging');
  };
  zone.addEventListener('dragenter', over);
  zone.addEventListener('dragover', over);
  zone.addEventListener('dragleave', () => root.classList.remove('s3ff-dragging'));
  zone.addEventListener('drop', (event) => {
    root.classList.remove('s3ff-dragging');
    const files = event.dataTransfer?.files;
    if (input.disabled || files === undefined || files.length === 0) return;
    event.preventDefault();
    take([...files]);
  });
}

/** Puts `file` in `input`, as if chosen there; `announce`: fires its `change`, as a choice does. */
export function putInInput(input: HTMLInputElement, file: File, announce: boolean): void {
  const transfer = new DataTransfer();
  transfer.items.add(file);
  input.files = transfer.files;
  if (announce) input.dispatchEvent(new Event('change', { bubbles: true }));
}
