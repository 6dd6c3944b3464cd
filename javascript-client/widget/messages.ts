/**
 * The widget's texts come from the server (rendered with Django's gettext into the
 * input's `data-s3ff-messages`), so the script holds no language of its own.
 */
export interface WidgetMessages {
  readonly choose: string;
  readonly dropHere: string;
  readonly preparing: string;
  readonly uploading: string;
  readonly progress: string;
  readonly finalizing: string;
  readonly done: string;
  readonly cancel: string;
  readonly retry: string;
  readonly cancelled: string;
  readonly failed: string;
  readonly tooLarge: string;
  readonly notAccepted: string;
  readonly waitForUpload: string;
  readonly progressLabel: string;
  readonly kept: string;
  readonly remove: string;
  readonly notUploaded: string;
  readonly resumable: string;
  readonly discard: string;
  readonly tooMany: string;
  readonly tooLargeTogether: string;
  readonly noMoreRows: string;
  readonly resizing: string;
  readonly resume: string;
}

const keys: readonly (keyof WidgetMessages)[] = [
  'choose',
  'dropHere',
  'preparing',
  'uploading',
  'progress',
  'finalizing',
  'done',
  'cancel',
  'retry',
  'cancelled',
  'failed',
  'tooLarge',
  'notAccepted',
  'waitForUpload',
  'progressLabel',
  'kept',
  'remove',
  'notUploaded',
  'resumable',
  'discard',
  'tooMany',
  'tooLargeTogether',
  'noMoreRows',
  'resizing',
  'resume',
];

/** Reads the messages of one input; a missing one shows its key, which a test would catch. */
export function readMessages(input: HTMLInputElement): WidgetMessages {
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(input.dataset.s3ffMessages ?? '{}') as Record<string, unknown>;
  } catch {
    parsed = {};
  }
  const messages: Record<string, string> = {};
  for (const key of keys) {
    const value = parsed[key];
    messages[key] = typeof value === 'string' ? value : key;
  }
  return messages as unknown as WidgetMessages;
}

/** Fills `%(name)s` placeholders and turns `%%` into `%`, as Python's `%` formatting does. */
export function interpolate(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/%\((\w+)\)s|%%/g, (whole, name: string | undefined) =>
    name === undefined ? '%' : (values[name] ?? whole),
  );
}
