/**
 * Model lists in each provider's shape: OpenAI's `GET /v1/models` (also Azure's and every
 * OpenAI-compatible server's), Anthropic's (same path, told apart by its `anthropic-version`
 * header) and Gemini's `GET /v1beta/models` with token limits.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** What the Gemini list says of a model's input window (the SDK-independent catalogue reads it). */
export const GEMINI_LISTED_INPUT_TOKENS = 123_456;

function send(res: ServerResponse, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function listModels(req: IncomingMessage, res: ServerResponse, path: string, models: string[]): boolean {
  const created = Math.floor(Date.now() / 1000);
  if (path === '/v1/models' && req.headers['anthropic-version']) {
    send(res, {
      data: models.map((id) => ({ type: 'model', id, display_name: id, created_at: new Date(created * 1000).toISOString() })),
      has_more: false,
      first_id: models[0] ?? null,
      last_id: models.at(-1) ?? null,
    });
    return true;
  }
  if (path === '/v1/models' || path === '/openai/v1/models') {
    send(res, { object: 'list', data: models.map((id) => ({ id, object: 'model', created, owned_by: 'agentgraph-test' })) });
    return true;
  }
  if (path === '/v1beta/models') {
    send(res, {
      models: models.map((id) => ({
        name: `models/${id}`,
        displayName: id,
        inputTokenLimit: GEMINI_LISTED_INPUT_TOKENS,
        outputTokenLimit: 8192,
        supportedGenerationMethods: /embed/.test(id) ? ['embedContent'] : ['generateContent', 'countTokens'],
      })),
    });
    return true;
  }
  return false;
}
