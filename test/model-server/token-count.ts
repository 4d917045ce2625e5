/**
 * Token count endpoints: Anthropic's `POST /v1/messages/count_tokens` → `{input_tokens}` and
 * Gemini's `POST /v1beta/models/{m}:countTokens` → `{totalTokens}`. The count is deterministic
 * (a third of the body's JSON length) so that tests can check it is the one reported.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface CountCall {
  path: string;
  body: Record<string, unknown>;
  tokens: number;
}

export const scriptedTokenCount = (body: unknown) => Math.ceil(JSON.stringify(body).length / 3);

export function handleTokenCount(req: IncomingMessage, res: ServerResponse, path: string, calls: CountCall[]): boolean {
  const anthropic = path === '/v1/messages/count_tokens';
  if (!anthropic && !/^\/v1beta\/models\/[^/:]+:countTokens$/.test(path)) return false;
  void (async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
    const tokens = scriptedTokenCount(body);
    calls.push({ path, body, tokens });
    const text = JSON.stringify(anthropic ? { input_tokens: tokens } : { totalTokens: tokens });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  })();
  return true;
}
