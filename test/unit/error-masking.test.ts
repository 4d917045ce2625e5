import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import { createErrorMasker } from '../../src/schema/error-masking.js';

/**
 * The masker decides what a client may read. Errors reach it as graphql-js wraps them: a
 * resolver's error is a located GraphQLError (with a path) whose originalError is what was thrown.
 */
const located = (original: Error) => new GraphQLError(original.message, { path: ['node'], originalError: original });

describe('error masker', () => {
  const logged: unknown[] = [];
  const logger = createLogger({ LOG_LEVEL: 'silent' } as never);
  logger.error = ((entry: unknown) => void logged.push(entry)) as typeof logger.error;
  const mask = createErrorMasker(logger);

  it('passes our typed errors with their code, message and details', () => {
    const masked = mask(located(new AppError('NOT_FOUND', 'Agent x not found', { id: 'x' }))) as GraphQLError;
    expect(masked.message).toBe('Agent x not found');
    expect(masked.extensions).toEqual({ id: 'x', code: 'NOT_FOUND' });
  });

  it("turns a GraphQLError thrown inside a resolver (Pothos's own, a library's) into INTERNAL, logged", () => {
    const before = logged.length;
    const masked = mask(located(new GraphQLError('Expected ref to resolve to a Object type, but got Message', { extensions: { code: 'BAD_USER_INPUT' } }))) as GraphQLError;
    expect(masked.message).toBe('Internal server error');
    expect(masked.extensions).toEqual({ code: 'INTERNAL' });
    expect(logged.length).toBe(before + 1);
  });

  it('keeps request errors (parse, validation, variable coercion) as BAD_USER_INPUT', () => {
    const validation = mask(new GraphQLError('Cannot query field "nope" on type "Query".')) as GraphQLError;
    expect(validation.extensions.code).toBe('BAD_USER_INPUT');
    expect(validation.message).toBe('Cannot query field "nope" on type "Query".');
    // A scalar refusing a variable: graphql-js wraps it without a path.
    const coercion = mask(new GraphQLError('Variable "$file" got invalid value', { originalError: new GraphQLError('Upload expects a file', { extensions: { code: 'BAD_USER_INPUT' } }) })) as GraphQLError;
    expect(coercion.extensions.code).toBe('BAD_USER_INPUT');
    expect(coercion.message).toBe('Upload expects a file');
  });

  it('hides an unexpected error behind INTERNAL', () => {
    const masked = mask(located(new TypeError("Cannot read properties of undefined (reading 'id')"))) as GraphQLError;
    expect(masked).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL' } });
  });
});
