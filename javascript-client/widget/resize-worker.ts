/**
 * The Worker that shrinks an image for the widget (resize.ts), off the page's thread: decoded
 * with its EXIF orientation applied, drawn to fit the bounds, encoded as asked. Loaded from a
 * static file beside widget.js (no `blob:` URL, so a CSP of `worker-src 'self'` allows it).
 */
import type { ResizeReply, ResizeRequest } from './resize.js';

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<ResizeRequest>) => void) | null;
  postMessage(message: ResizeReply): void;
};

scope.onmessage = async ({ data }) => {
  const { file, rule } = data;
  try {
    const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
    const scale = Math.min(
      1,
      rule.maxWidth === null ? 1 : rule.maxWidth / bitmap.width,
      rule.maxHeight === null ? 1 : rule.maxHeight / bitmap.height,
    );
    const type = rule.type ?? file.type;
    if (scale === 1 && type === file.type) {
      bitmap.close();
      scope.postMessage({ blob: null });
      return;
    }
    const width = Math.max(1, Math.round(bitmap.width * scale));
    const height = Math.max(1, Math.round(bitmap.height * scale));
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext('2d');
    if (context === null) throw new Error('no 2d context');
    context.imageSmoothingQuality = 'high';
    context.drawImage(bitmap, 0, 0, width, height);
    bitmap.close();
    scope.postMessage({ blob: await canvas.convertToBlob({ type, quality: rule.quality }) });
  } catch (error) {
    scope.postMessage({ error: error instanceof Error ? error.message : String(error) });
  }
};
