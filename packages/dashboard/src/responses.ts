import type { ServerResponse } from 'node:http';

// Vega compiles its expressions with Function, hence 'unsafe-eval'; onnxruntime-web compiles
// WebAssembly ('wasm-unsafe-eval'); images picked on the classify page are blob: URLs; nothing is loaded from elsewhere.
export const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self' 'unsafe-eval' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:",
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
};

export function send(response: ServerResponse, status: number, type: string, body: Uint8Array | string): void {
  response.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type });
  response.end(body);
}

export function sendJson(response: ServerResponse, status: number, value: unknown): void {
  send(response, status, 'application/json; charset=utf-8', JSON.stringify(value));
}
