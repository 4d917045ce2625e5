import { createGraphQLError, type Plugin } from 'graphql-yoga';

/**
 * Strict parsers for the request encodings whose malformed forms yoga's own parsers turn into
 * internal errors: GET (and form-encoded POST) with `variables` or `extensions` that are not JSON
 * objects, and multipart requests whose `map` is not an object of path lists. Each problem is
 * BAD_USER_INPUT (HTTP 400) naming the field.
 */

const badRequest = (message: string) => createGraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } });

function jsonField(name: string, text: string | null, kind: 'object' | 'any' = 'object'): unknown {
  if (text === null || text === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw badRequest(`"${name}" is not valid JSON (${(error as Error).message})`);
  }
  if (kind === 'object' && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    throw badRequest(`"${name}" must be a JSON object`);
  }
  return value;
}

function fromSearchParams(params: URLSearchParams) {
  return {
    query: params.get('query') ?? undefined,
    operationName: params.get('operationName') || undefined,
    variables: jsonField('variables', params.get('variables')) as Record<string, unknown> | undefined,
    extensions: jsonField('extensions', params.get('extensions')) as Record<string, unknown> | undefined,
  };
}

async function fromMultipart(request: Request) {
  let form: FormData;
  try {
    form = await request.formData();
  } catch (error) {
    throw badRequest(`Malformed multipart body: ${(error as Error).message}`);
  }
  const operationsText = form.get('operations');
  if (typeof operationsText !== 'string') throw badRequest('Multipart field "operations" is missing or not text');
  const operations = jsonField('operations', operationsText, 'any');
  if (typeof operations !== 'object' || operations === null) throw badRequest('Multipart field "operations" must be a JSON object or array');
  const mapText = form.get('map');
  if (mapText === null) return operations;
  if (typeof mapText !== 'string') throw badRequest('Multipart field "map" must be text');
  const map = jsonField('map', mapText) as Record<string, unknown>;
  for (const [field, paths] of Object.entries(map)) {
    if (!Array.isArray(paths) || !paths.every((path) => typeof path === 'string')) {
      throw badRequest(`Multipart "map" entry "${field}" must be a list of paths like ["variables.file"]`);
    }
    const file = form.get(field);
    if (file === null) throw badRequest(`Multipart "map" names a file field "${field}" that the request does not contain`);
    for (const path of paths) place(operations as Record<string, unknown>, path, file);
  }
  return operations;
}

/** Puts `value` at a dotted path such as `variables.file` or `0.variables.files.1`. */
function place(target: Record<string, unknown>, path: string, value: unknown) {
  const keys = path.split('.');
  let current: Record<string, unknown> = target;
  for (const [index, key] of keys.entries()) {
    if (key === '__proto__' || key === 'constructor' || key === 'prototype' || !Object.hasOwn(current, key)) {
      throw badRequest(`Multipart "map" path "${path}" does not name a variable of the operations`);
    }
    if (index === keys.length - 1) current[key] = value;
    else {
      const next = current[key];
      if (typeof next !== 'object' || next === null) throw badRequest(`Multipart "map" path "${path}" does not name a variable of the operations`);
      current = next as Record<string, unknown>;
    }
  }
}

const contentType = (request: Request) => (request.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();

export function useStrictRequestParsers(): Plugin {
  return {
    onRequestParse({ request, setRequestParser }) {
      if (request.method === 'GET') {
        setRequestParser((req) => fromSearchParams(new URL(req.url).searchParams));
      } else if (request.method === 'POST' && contentType(request) === 'application/x-www-form-urlencoded') {
        setRequestParser(async (req) => fromSearchParams(new URLSearchParams(await req.text())));
      } else if (request.method === 'POST' && contentType(request) === 'multipart/form-data') {
        setRequestParser((req) => fromMultipart(req) as never);
      }
    },
  };
}
