/**
 * Embeddings in three protocols, all answering deterministic vectors (EMBEDDING_DIMENSIONS long)
 * from the words of each input: OpenAI's `POST /v1/embeddings`, Gemini's
 * `POST /v1beta/models/{m}:batchEmbedContents` (and `:embedContent` for one text) and Ollama's `POST /api/embed`. An input containing
 * FAIL_EMBEDDING answers 500 (FAIL_EMBEDDING_WITH_TRACE: with a stack trace and source paths in
 * its message, as a careless provider or proxy might); one containing HOLD_EMBEDDING waits for
 * releaseEmbeddings().
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export const EMBEDDING_DIMENSIONS = 8;

/** A deterministic vector: each word adds to one bucket chosen by its characters. */
export function scriptedEmbedding(text: string): number[] {
  const vector = new Array<number>(EMBEDDING_DIMENSIONS).fill(0);
  for (const word of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
    let hash = 0;
    for (const char of word) hash = (hash * 31 + char.charCodeAt(0)) % 1_000_003;
    vector[hash % EMBEDDING_DIMENSIONS]! += 1;
  }
  return vector;
}

type Shape = 'openai' | 'gemini' | 'gemini-single' | 'ollama';

export interface EmbeddingCall {
  path: string;
  model: string;
  inputs: string[];
}

function shapeOf(path: string): Shape | undefined {
  if (path === '/v1/embeddings' || path === '/openai/v1/embeddings') return 'openai';
  if (/^\/v1beta\/models\/[^/:]+:batchEmbedContents$/.test(path)) return 'gemini';
  if (/^\/v1beta\/models\/[^/:]+:embedContent$/.test(path)) return 'gemini-single';
  if (path === '/api/embed') return 'ollama';
  return undefined;
}

function inputsOf(shape: Shape, body: Record<string, unknown>): string[] {
  if (shape === 'gemini-single') return [((body.content as { parts?: Array<{ text?: string }> } | undefined)?.parts ?? []).map((part) => part.text ?? '').join('')];
  if (shape === 'gemini') {
    const requests = (body.requests as Array<{ content?: { parts?: Array<{ text?: string }> } }> | undefined) ?? [];
    return requests.map((request) => (request.content?.parts ?? []).map((part) => part.text ?? '').join(''));
  }
  const input = body.input as string | string[] | undefined;
  return typeof input === 'string' ? [input] : (input ?? []);
}

function answer(shape: Shape, body: Record<string, unknown>, inputs: string[]): unknown {
  const vectors = inputs.map(scriptedEmbedding);
  if (shape === 'gemini') return { embeddings: vectors.map((values) => ({ values })) };
  if (shape === 'gemini-single') return { embedding: { values: vectors[0] } };
  if (shape === 'ollama') return { model: body.model, embeddings: vectors, total_duration: 1, load_duration: 1, prompt_eval_count: inputs.length };
  return {
    object: 'list',
    model: body.model ?? 'scripted',
    data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding })),
    usage: { prompt_tokens: inputs.length, total_tokens: inputs.length },
  };
}

const TRACE = 'TypeError: boom\n    at handler (/srv/provider/src/embed.ts:12:7)\n    at process (node:internal/process/task_queues:95:5)';

function failure(shape: Shape, withTrace = false): unknown {
  const message = withTrace ? `scripted embedding failure: ${TRACE}` : 'scripted embedding failure';
  if (shape === 'gemini' || shape === 'gemini-single') return { error: { code: 500, message, status: 'INTERNAL' } };
  if (shape === 'ollama') return { error: message };
  return { error: { message, type: 'server_error', param: null, code: 'server_error' } };
}

function send(res: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Answers an embeddings request of any of the three protocols; false when the path is none of them. */
export function handleEmbeddings(req: IncomingMessage, res: ServerResponse, path: string, recorded: { inputs: string[][]; calls: EmbeddingCall[] }, hold: () => Promise<void>): boolean {
  const shape = shapeOf(path);
  if (!shape) return false;
  void (async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
    const inputs = inputsOf(shape, body);
    recorded.inputs.push(inputs);
    const model = (typeof body.model === 'string' ? body.model : (/models\/([^/:]+):/.exec(path)?.[1] ?? '')).replace(/^models\//, '');
    recorded.calls.push({ path, model, inputs });
    if (inputs.some((input) => input.includes('HOLD_EMBEDDING'))) await hold();
    if (inputs.some((input) => input.includes('FAIL_EMBEDDING'))) send(res, 500, failure(shape, inputs.some((input) => input.includes('FAIL_EMBEDDING_WITH_TRACE'))));
    else send(res, 200, answer(shape, body, inputs));
  })().catch((error: unknown) => send(res, 500, { error: { message: error instanceof Error ? error.message : String(error) } }));
  return true;
}
