import type http from 'node:http';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { Kind, visit, type DocumentNode } from 'graphql';
import type { GraphQLContext } from '../schema/builder.js';

/**
 * Browser safety (docs/auth.md, "Browser apps"):
 * - Origin: a request or WebSocket carrying an `Origin` that is neither the server's own nor in
 *   CORS_ORIGINS is refused before anything runs. Non-browser clients send no Origin.
 * - CORS: allowed origins get their own origin back, never `Access-Control-Allow-Credentials`
 *   (the API authenticates with a bearer key, not cookies).
 * - CSRF: a request a browser would send without a preflight (GET, form-encoded, multipart,
 *   text/plain) must carry one of CSRF_HEADERS, which a page from another origin cannot set
 *   without the preflight that CORS refuses.
 */

export const CSRF_HEADERS = ['x-graphql-yoga-csrf', 'apollo-require-preflight'];

/** Headers a browser app may send. */
const ALLOWED_HEADERS = ['content-type', 'authorization', 'accept', 'x-request-id', ...CSRF_HEADERS];

export interface OriginPolicy {
  /** Whether a request with this Origin (to this Host) may be served. No Origin: yes. */
  allows(origin: string | null | undefined, host: string | null | undefined): boolean;
}

export function createOriginPolicy(allowList: readonly string[]): OriginPolicy {
  const any = allowList.includes('*');
  const listed = new Set(allowList);
  return {
    allows(origin, host) {
      if (origin === undefined || origin === null) return true;
      if (any || listed.has(origin)) return true;
      try {
        return Boolean(host) && new URL(origin).host === host;
      } catch {
        return false; // "null" (sandboxed frames, file://) and junk
      }
    },
  };
}

/** yoga's `cors` option: the caller's own origin back when allowed, no credentials. */
export function corsOptions(policy: OriginPolicy) {
  return (request: Request) => {
    const origin = request.headers.get('origin');
    if (!origin || !policy.allows(origin, request.headers.get('host'))) return false as const;
    return { origin: [origin], credentials: false, allowedHeaders: ALLOWED_HEADERS, methods: ['GET', 'POST', 'OPTIONS'], maxAge: 600 };
  };
}

/** The refusal of a foreign Origin, for the log and the answer. */
export function foreignOriginMessage(origin: string) {
  return `Origin ${origin} is not allowed: add it to CORS_ORIGINS to call the API from that page`;
}

export function requestOrigin(req: http.IncomingMessage): { origin: string | undefined; host: string | undefined } {
  const origin = req.headers.origin;
  return { origin: typeof origin === 'string' ? origin : undefined, host: req.headers.host };
}

const csrfPrevention = useCSRFPrevention({ requestHeaders: CSRF_HEADERS });

/** Throws FORBIDDEN (HTTP 403) for a request that could have been sent by a form of another site. */
export function checkCsrf(request: Request): void {
  try {
    (csrfPrevention.onRequestParse as (payload: { request: Request }) => void)({ request });
  } catch {
    throw createGraphQLError(`Requests that are not application/json (GET, forms, multipart uploads) must carry the header ${CSRF_HEADERS[0]}: 1`, {
      extensions: { code: 'FORBIDDEN', http: { status: 403 } },
    });
  }
}

/** yoga's CSRF prevention with our code and message. */
export function useCsrfPrevention(): Plugin {
  return { onRequestParse: ({ request }) => checkCsrf(request) };
}

function isIntrospection(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    [Kind.FIELD](node) {
      if (node.name.value === '__schema' || node.name.value === '__type') found = true;
    },
  });
  return found;
}

/**
 * Introspection follows the auth policy (a caller who may not query may not introspect either)
 * and can be switched off (INTROSPECTION=false).
 */
export function useIntrospectionPolicy(enabled: boolean): Plugin<GraphQLContext> {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      if (!isIntrospection(args.document)) return;
      const context = args.contextValue as GraphQLContext;
      if (!enabled) {
        setResultAndStopExecution({ errors: [createGraphQLError('Introspection is disabled on this server', { extensions: { code: 'FORBIDDEN' } })] });
      } else if (!context.caller) {
        const message = context.authProblem ?? 'An API key is required: send "Authorization: Bearer <key>"';
        setResultAndStopExecution({ errors: [createGraphQLError(message, { extensions: { code: 'UNAUTHENTICATED' } })] });
      }
    },
  };
}
