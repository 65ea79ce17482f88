/**
 * The UI's Content Security Policy, the same in Electron and in the browser: only our own
 * scripts and styles, no eval, no plugins, no framing; the WebSocket may reach only the
 * server that served the page.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self' ws://127.0.0.1:*",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
