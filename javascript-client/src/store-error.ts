/** The `<Code>` and `<Message>` of an S3 error document, when the body is one. */
export function readStoreError(body: string): { code: string | undefined; message: string | undefined } {
  return { code: xmlElementText(body, 'Code'), message: xmlElementText(body, 'Message') };
}

function xmlElementText(xml: string, element: string): string | undefined {
  // A regular expression, not DOMParser: Node has none, and S3 error documents are flat.
  const match = new RegExp(`<${element}>([^<]*)</${element}>`).exec(xml);
  return match?.[1] === undefined ? undefined : decodeXmlEntities(match[1].trim());
}

const xmlEntities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeXmlEntities(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[\da-fA-F]+);/g, (_, entity: string) => {
    if (entity.startsWith('#x')) return String.fromCodePoint(Number.parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(Number.parseInt(entity.slice(1), 10));
    return xmlEntities[entity] ?? '';
  });
}
