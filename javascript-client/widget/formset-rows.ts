/**
 * Files dropped together on one file field of a formset row (the admin's inline rows): the
 * first stays there, and each other one gets a row of its own, added as the formset's
 * "Add another" link adds one, to upload there. Django's admin names the row inputs
 * `<prefix>-<index>-<field>` and puts the link in `#<prefix>-group .add-row a`.
 */
import { putInInput } from './drop-zone.js';

const rowInputName = /^(.+)-(\d+)-([^-]+)$/;

/** The name of a row's file input, before or after a widget took it over. */
function inputName(input: HTMLInputElement): string {
  return input.name || input.dataset.s3ffName || '';
}

/** Whether `input` is a file field of a formset row that can add rows; gives the row's group. */
export function formsetGroup(fieldName: string): { group: HTMLElement; prefix: string; field: string } | undefined {
  const match = rowInputName.exec(fieldName);
  if (match === null) return undefined;
  const [, prefix = '', , field = ''] = match;
  const group = document.getElementById(`${prefix}-group`);
  return group === null ? undefined : { group, prefix, field };
}

/**
 * Gives each of `files` a new row of the formset that `fieldName` belongs to, and uploads it
 * there; gives back the files no row could be added for (the formset's maximum reached).
 */
export async function spreadOverNewRows(fieldName: string, files: readonly File[]): Promise<File[]> {
  const formset = formsetGroup(fieldName);
  if (formset === undefined) return [...files];
  const { group, prefix, field } = formset;
  const sameField = (input: HTMLInputElement) => {
    const match = rowInputName.exec(inputName(input));
    return match !== null && match[1] === prefix && match[3] === field;
  };
  for (const [index, file] of files.entries()) {
    const add = group.querySelector<HTMLElement>('.add-row a');
    // The admin hides the link once the formset has its most rows.
    if (add === null || add.offsetParent === null) return files.slice(index);
    add.click();
    // The new row's widget is made by a MutationObserver: its turn comes first.
    await new Promise((resolve) => setTimeout(resolve, 0));
    const inputs = [...group.querySelectorAll<HTMLInputElement>('input[type="file"]')].filter(sameField);
    const input = inputs.at(-1);
    if (input === undefined) return files.slice(index);
    putInInput(input, file, true);
  }
  return [];
}
