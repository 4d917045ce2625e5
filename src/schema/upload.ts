import { GraphQLError } from 'graphql';
import { builder } from './builder.js';

/**
 * Files sent with the GraphQL multipart request spec (graphql-yoga parses the request and puts a
 * web `File` in the variable). The request body limit (MAX_BODY_BYTES) bounds their size.
 */
export const UploadScalar = builder.scalarType('Upload', {
  description: 'A file sent as a GraphQL multipart request (https://github.com/jaydenseric/graphql-multipart-request-spec). Input only.',
  serialize: () => {
    throw new GraphQLError('Upload is an input-only scalar');
  },
  parseValue: (value) => {
    if (typeof File !== 'undefined' && value instanceof File) return value;
    if (value && typeof value === 'object' && typeof (value as File).text === 'function') return value as File;
    throw new GraphQLError('Upload expects a file sent as a multipart request part', { extensions: { code: 'BAD_USER_INPUT' } });
  },
  parseLiteral: () => {
    throw new GraphQLError('Upload cannot be written inline; send the file as a multipart request part', { extensions: { code: 'BAD_USER_INPUT' } });
  },
});
