// The renderer's Content-Security-Policy, sent by the harness and by the Electron shell (and
// mirrored in src/renderer/index.html). No inline scripts, no eval, no remote code; the only
// connection is the harness's own WebSocket ('self' covers ws: on the same host in CSP3).
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');
