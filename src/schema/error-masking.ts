import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { Prisma } from '../generated/prisma/client.js';
import type { Logger } from '../logger.js';
import { AppError, type ErrorCode } from '../errors.js';
import { isConnectionLost } from '../db/errors.js';

/**
 * The one place where failures become GraphQL errors. Every error leaves with `extensions.code`
 * (SPEC §6); unexpected ones are logged with their stack and leave as INTERNAL with no detail.
 */
function withCode(error: GraphQLError, code: ErrorCode, message = error.message, extra: Record<string, unknown> = {}) {
  return new GraphQLError(message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    extensions: { ...extra, code },
  });
}

/** PostgreSQL's code behind a Prisma or driver error, if any. */
function postgresCode(error: unknown): string | undefined {
  const candidates = [
    (error as { meta?: { driverAdapterError?: { cause?: { code?: unknown } } } }).meta?.driverAdapterError?.cause?.code,
    (error as { cause?: { code?: unknown } }).cause?.code,
  ];
  const code = candidates.find((value) => typeof value === 'string');
  return code as string | undefined;
}

/** 22021: invalid byte sequence (a NUL in text); 22P05: untranslatable character (\u0000 in jsonb). */
const NUL_CODES = new Set(['22021', '22P05']);

/** Known database failures that a caller can cause. */
function fromPrisma(error: Prisma.PrismaClientKnownRequestError): AppError | undefined {
  if (error.code === 'P2002') return new AppError('CONFLICT', 'A record with the same unique value already exists');
  if (error.code === 'P2025') return new AppError('NOT_FOUND', 'The record does not exist');
  return fromPostgres(error);
}

function fromPostgres(error: unknown): AppError | undefined {
  if (NUL_CODES.has(postgresCode(error) ?? '')) {
    return new AppError('BAD_USER_INPUT', 'A string argument contains a NUL character (\\u0000), which text cannot hold: remove it');
  }
  return undefined;
}

/** A rate limit answers HTTP 429 with Retry-After (yoga reads `extensions.http`, clients do not see it). */
function httpOf(error: AppError): Record<string, unknown> {
  if (error.code !== 'RATE_LIMITED') return {};
  const seconds = Number(error.details.retryAfterSeconds ?? 1);
  return { http: { status: 429, headers: { 'Retry-After': String(seconds) } } };
}

export function createErrorMasker(logger: Logger) {
  return (error: unknown): Error => {
    const graphqlError = error instanceof GraphQLError ? error : new GraphQLError(String(error));
    const original = graphqlError.originalError ?? (error instanceof GraphQLError ? undefined : error);
    if (!original) {
      // Errors raised by graphql-js itself (parse, validation, variable coercion).
      if (graphqlError.extensions?.code) return graphqlError;
      return withCode(graphqlError, 'BAD_USER_INPUT');
    }
    // Only our own typed errors (and the database's known ones) tell the client what went wrong.
    let known = original instanceof AppError ? original : undefined;
    if (!known && original instanceof Prisma.PrismaClientKnownRequestError) known = fromPrisma(original);
    if (!known && isConnectionLost(original)) {
      logger.warn({ err: original, path: graphqlError.path }, 'database connection lost');
      known = new AppError('DATABASE_UNAVAILABLE', 'The database connection was lost; try again');
    }
    if (!known) known = fromPostgres(original);
    if (known) return withCode(graphqlError, known.code, known.message, { ...known.details, ...httpOf(known) });
    if (original instanceof GraphQLError && !graphqlError.path) {
      // Request errors of nested GraphQL machinery, before any resolver ran (e.g. variable
      // coercion of a subscription, an Upload given inline): the request is at fault.
      return original.extensions?.code ? original : withCode(original, 'BAD_USER_INPUT');
    }
    // Anything else a resolver threw (a bug, a library's or Pothos's own GraphQLError) is ours.
    logger.error({ err: original, path: graphqlError.path }, 'unexpected error');
    return withCode(graphqlError, 'INTERNAL', 'Internal server error');
  };
}

/** Codes that yoga and graphql-js give to requests that are malformed; we report them as BAD_USER_INPUT. */
const REQUEST_PROBLEM_CODES = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_REQUEST']);

/** A request problem (parse, validation) with our code. */
export function codedRequestError(raw: unknown): GraphQLError {
  const error = raw instanceof GraphQLError ? raw : new GraphQLError(String(raw));
  const code = error.extensions?.code;
  if (code && !REQUEST_PROBLEM_CODES.has(String(code))) return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    // `reason` keeps the finer-grained code; `http` keeps yoga's status choice.
    extensions: { ...error.extensions, code: 'BAD_USER_INPUT', ...(code ? { reason: code } : {}) },
  });
}

/**
 * Parse and validation errors (syntax, unknown fields, depth and token limits) never reach the
 * masker; this gives them our code on the way out.
 */
export function useErrorCodes(): Plugin {
  return {
    onResultProcess({ result, setResult }) {
      if (Array.isArray(result) || !result || typeof result !== 'object' || !('errors' in result)) return;
      const errors = (result as { errors?: readonly GraphQLError[] }).errors;
      const needsCode = (error: GraphQLError) => !error.extensions?.code || REQUEST_PROBLEM_CODES.has(String(error.extensions.code));
      if (!errors?.some(needsCode)) return;
      setResult({
        ...result,
        errors: errors.map(codedRequestError),
      } as typeof result);
    },
  };
}
