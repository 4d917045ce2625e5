import type { CombinedError } from 'urql';

/** The server's `extensions.code` of the first GraphQL error (UNAUTHENTICATED, PENDING_APPROVAL, …). */
export function errorCode(error: CombinedError | undefined): string | undefined {
  const code = error?.graphQLErrors[0]?.extensions?.code;
  return typeof code === 'string' ? code : undefined;
}
