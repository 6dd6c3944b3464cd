/**
 * Shrinking an image before it is uploaded, where the field asks for it (`data-s3ff-resize`,
 * from `ImageResize`): done by a Worker (resize-worker.ts), so the page never waits on it.
 */
export interface ResizeRule {
  readonly maxWidth: number | null;
  readonly maxHeight: number | null;
  readonly quality: number;
  readonly type: string | null;
}

export interface ResizeRequest {
  readonly file: File;
  readonly rule: ResizeRule;
}

/** The Worker's answer: the image re-encoded, `null` when it is fine as it is, or why it failed. */
export type ResizeReply = { readonly blob: Blob | null } | { readonly error: string };

/** The widget script's own URL, read as it loads: the Worker's file sits beside it. */
const widgetScriptUrl =
  typeof document === 'undefined' ? null : (document.currentScript as HTMLScriptElement | null)?.src;

/** The rule an input carries; undefined when it has none (or a malformed one). */
export function resizeRule(input: HTMLInputElement): ResizeRule | undefined {
  try {
    const rule = JSON.parse(input.dataset.s3ffResize ?? 'null') as Partial<ResizeRule> | null;
    if (rule === null || typeof rule !== 'object' || typeof rule.quality !== 'number') return undefined;
    return {
      maxWidth: typeof rule.maxWidth === 'number' ? rule.maxWidth : null,
      maxHeight: typeof rule.maxHeight === 'number' ? rule.maxHeight : null,
      quality: rule.quality,
      type: typeof rule.type === 'string' ? rule.type : null,
    };
  } catch {
    return undefined;
  }
}

/** Types a browser decodes and a canvas redraws faithfully; an animated GIF or an SVG is not touched. */
const resizable = /^image\/(jpeg|png|webp|avif|bmp)$/;

const extensions: Readonly<Record<string, string>> = {
  'image/jpeg': '.jpg',
  'image/png': '.png',
  'image/webp': '.webp',
};

/**
 * `file` shrunk to the rule, or `file` itself: when it is not an image that can be redrawn, is
 * within the bounds already, cannot be decoded (damaged, or not what its type says), or this
 * browser cannot (no OffscreenCanvas in Workers): the field's limits are checked on what comes
 * out, and the server checks what arrives, either way.
 */
export async function resizedImage(file: File, rule: ResizeRule): Promise<File> {
  if (!resizable.test(file.type) || !widgetScriptUrl || typeof Worker !== 'function') return file;
  const worker = new Worker(new URL('resize-worker.js', widgetScriptUrl));
  try {
    const reply = await new Promise<ResizeReply>((resolve) => {
      worker.onmessage = (event: MessageEvent<ResizeReply>) => resolve(event.data);
      // A Worker the page may not load (its CSP) or that fails: the file goes as it is.
      worker.onerror = () => resolve({ error: 'the resizing worker failed' });
      worker.postMessage({ file, rule } satisfies ResizeRequest);
    });
    if ('error' in reply || reply.blob === null) return file;
    return new File([reply.blob], renamed(file.name, file.type, reply.blob.type), {
      type: reply.blob.type,
      lastModified: file.lastModified,
    });
  } finally {
    worker.terminate();
  }
}

/** The name with the extension of the new type, when the type changed. */
function renamed(name: string, from: string, to: string): string {
  const extension = extensions[to];
  if (from === to || extension === undefined) return name;
  const dot = name.lastIndexOf('.');
  return (dot > 0 ? name.slice(0, dot) : name) + extension;
}
