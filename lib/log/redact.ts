/**
 * Redaction policy for everything we log. Path-based redaction (pino's `redact`) misses a secret
 * nested one level deeper than expected, so we walk the whole object instead and drop:
 *  - any value under a key that names mail content, credentials or key material;
 *  - any binary value (Buffer, typed array, ArrayBuffer), whatever its key: bytes in a log line
 *    are never useful enough to risk being a key or a message body.
 * Shapes and sizes stay visible so the log remains useful for debugging.
 */

const SENSITIVE_KEY =
  /pass(word|phrase)?|secret|token|^key$|keys$|privatekey|private_key|kek|dek|seed|otp|totp|recovery|authorization|cookie|session|body|content|raw|plaintext|html|text|subject|attachment|mail|message$|^data$/i;

// Keys that look sensitive by the pattern above but carry only metadata.
const SAFE_KEY =
  /^(messageId|mailId|contentType|contentLength|keyId|sessionId|tenantId|msg|err|level|time)$/;

export const REDACTED = '[redacted]';

export function isSensitiveKey(key: string): boolean {
  return SENSITIVE_KEY.test(key) && !SAFE_KEY.test(key);
}

export function redact(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value))
    return `[${value.byteLength} bytes redacted]`;
  if (value instanceof ArrayBuffer) return `[${value.byteLength} bytes redacted]`;
  if (seen.has(value)) return '[circular]';
  if (depth > 8) return '[too deep]';
  seen.add(value);
  if (value instanceof Error) {
    // Errors keep type and message (messages are ours and must never carry secrets), not arbitrary
    // properties that a library may have attached (e.g. a request with headers).
    return {
      type: value.name,
      reason: value.message,
      stack: value.stack,
      code: (value as { code?: unknown }).code,
    };
  }
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1, seen));
  if (value instanceof Map) return redact(Object.fromEntries(value), depth, seen);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = isSensitiveKey(k) ? REDACTED : redact(v, depth + 1, seen);
  }
  return out;
}
