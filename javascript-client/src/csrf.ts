/**
 * Django's CSRF protection for session-authenticated API calls: the token in
 * the `csrftoken` cookie must come back in the `X-CSRFToken` header.
 */
export interface CsrfOptions {
  /** Django's `CSRF_COOKIE_NAME`; default `csrftoken`. */
  readonly cookieName?: string | undefined;
  /** The header Django's `CSRF_HEADER_NAME` reads; default `X-CSRFToken`. */
  readonly headerName?: string | undefined;
}

export interface CsrfConfig {
  readonly cookieName: string;
  readonly headerName: string;
}

/** Django's defaults, unless told otherwise; `false` turns the header off. */
export function resolveCsrfOptions(options: CsrfOptions | false | undefined): CsrfConfig | false {
  if (options === false) return false;
  return { cookieName: options?.cookieName ?? 'csrftoken', headerName: options?.headerName ?? 'X-CSRFToken' };
}

function readCookie(name: string): string | undefined {
  if (typeof document === 'undefined') return undefined;
  for (const pair of document.cookie.split(';')) {
    const separator = pair.indexOf('=');
    if (separator > 0 && pair.slice(0, separator).trim() === name) {
      return decodeURIComponent(pair.slice(separator + 1).trim());
    }
  }
  return undefined;
}

/**
 * The CSRF header for a call to `url`, if the page has a token. It is sent only
 * to the page's own origin so the token never leaks to a third party; a
 * cross-origin API can be given the header through the `headers` option.
 */
export function csrfHeaderFor(url: string, options: CsrfConfig): [name: string, token: string] | undefined {
  if (typeof location === 'undefined') return undefined;
  if (new URL(url, location.href).origin !== location.origin) return undefined;
  const token = readCookie(options.cookieName);
  return token ? [options.headerName, token] : undefined;
}
