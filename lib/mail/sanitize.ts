import sanitizeHtml from 'sanitize-html';

/**
 * A mail's HTML made safe to show (issue 8): sanitised on the server with sanitize-html to an
 * allow-list of formatting elements — no scripts, event handlers, forms, frames, SVG, <style>,
 * <base> or <meta> — and shown by the portal in a sandboxed iframe without allow-scripts under its
 * own CSP, so a sanitiser gap alone runs nothing. Remote images are dropped unless the user allowed
 * them for this mail; `cid:` images point to the tenant-checked attachment route. Inline styles
 * keep only plain properties whose values cannot load anything (no url(), image-set(), @import).
 */

export interface SafeHtmlOptions {
  /** Where `cid:` images come from: the portal route for this mail's inline part. */
  cidUrl: (cid: string) => string;
  allowRemoteImages: boolean;
}

export interface SafeHtml {
  html: string;
  /** Remote images that were dropped (the page offers to load them). */
  blockedImages: number;
}

const STYLE_PROPERTIES = [
  'color',
  'background-color',
  'text-align',
  'text-decoration',
  'font-weight',
  'font-style',
  'font-size',
  'font-family',
  'line-height',
  'vertical-align',
  'white-space',
  'width',
  'max-width',
  'height',
  'padding',
  'padding-top',
  'padding-right',
  'padding-bottom',
  'padding-left',
  'margin',
  'margin-top',
  'margin-right',
  'margin-bottom',
  'margin-left',
  'border',
  'border-top',
  'border-right',
  'border-bottom',
  'border-left',
  'border-collapse',
  'border-color',
  'border-width',
  'border-style',
];

// Words, numbers, units, #colours, quotes, commas and rgb()/rgba()/hsl() — nothing that can name a
// resource (url, image-set, cross-fade, element) or an expression.
const SAFE_VALUE = /^(?:[-#%.,\w\s'"!]|(?:rgba?|hsla?)\([\d\s.,%/]*\))+$/i;

const allowedStyles = {
  '*': Object.fromEntries(STYLE_PROPERTIES.map((p) => [p, [SAFE_VALUE]])),
};

const REMOTE = /^(?:https?:)?\/\//i;
const DATA_IMAGE = /^data:image\/(?:png|gif|jpe?g|webp);base64,[a-z0-9+/=\s]+$/i;

export function safeHtml(html: string, options: SafeHtmlOptions): SafeHtml {
  let blockedImages = 0;
  const out = sanitizeHtml(html, {
    allowedTags: [
      ...sanitizeHtml.defaults.allowedTags.filter((t) => t !== 'style'),
      'img',
      'font',
      'center',
      'u',
      's',
      'strike',
      'big',
      'small',
    ],
    disallowedTagsMode: 'discard',
    allowedAttributes: {
      a: ['href', 'title', 'name'],
      img: ['src', 'alt', 'title', 'width', 'height', 'data-blocked'],
      font: ['color', 'size', 'face'],
      table: ['width', 'border', 'cellpadding', 'cellspacing', 'align', 'bgcolor'],
      td: ['width', 'height', 'colspan', 'rowspan', 'align', 'valign', 'bgcolor'],
      th: ['width', 'height', 'colspan', 'rowspan', 'align', 'valign', 'bgcolor'],
      tr: ['align', 'valign', 'bgcolor'],
      col: ['width', 'span'],
      colgroup: ['width', 'span'],
      '*': ['style', 'align', 'dir', 'lang', 'title'],
    },
    allowedStyles,
    allowedSchemes: ['http', 'https', 'mailto'],
    allowedSchemesByTag: { img: ['http', 'https', 'cid', 'data'] },
    allowProtocolRelative: false,
    transformTags: {
      a: (tagName, attribs) => ({
        tagName,
        attribs: { ...attribs, target: '_blank', rel: 'noopener noreferrer nofollow' },
      }),
      img: (tagName, attribs) => {
        const src = (attribs.src ?? '').trim();
        const { src: _dropped, srcset: _set, ...rest } = attribs;
        if (/^cid:/i.test(src))
          return {
            tagName,
            attribs: { ...rest, src: options.cidUrl(src.slice(4).replace(/^<|>$/g, '')) },
          };
        if (DATA_IMAGE.test(src)) return { tagName, attribs: { ...rest, src } };
        if (REMOTE.test(src) && options.allowRemoteImages && /^https?:/i.test(src))
          return { tagName, attribs: { ...rest, src } };
        if (REMOTE.test(src)) blockedImages++;
        return { tagName, attribs: { ...rest, 'data-blocked': '' } };
      },
    },
  });
  return { html: out, blockedImages };
}

/** The CSP of the document that shows a mail's HTML inside the portal's iframe. */
export function mailBodyCsp(origin: string, allowRemoteImages: boolean): string {
  return [
    "default-src 'none'",
    "style-src 'unsafe-inline'",
    `img-src ${origin} data:${allowRemoteImages ? ' https: http:' : ''}`,
    "form-action 'none'",
    "base-uri 'none'",
    "frame-ancestors 'self'",
    // Same origin (so inline images get the session cookie) but never scripts: without
    // allow-scripts, allow-same-origin cannot be used to lift the sandbox.
    'sandbox allow-same-origin allow-popups allow-popups-to-escape-sandbox',
  ].join('; ');
}
