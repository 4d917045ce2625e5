import { GraphQLError } from 'graphql';
import { builder } from './builder.js';

/**
 * Files sent with the GraphQL multipart request spec (graphql-yoga parses the request and puts a
 * web `File` in the variable). MAX_BODY_BYTES bounds agent files, MAX_UPLOAD_BYTES folder files.
 */
export const UploadScalar = builder.scalarType('Upload', {
  description: 'A file sent with the GraphQL multipart request spec (curl -F operations=... -F map=... -F 0=@file). Input only.',
  serialize: () => {
    throw new GraphQLError('Upload is an input-only scalar');
  },
  parseValue: (value) => {
    // yoga's File may come from its fetch ponyfill rather than the global File class.
    const candidate = value as Partial<File> | null;
    if (candidate && typeof candidate === 'object' && typeof candidate.arrayBuffer === 'function' && typeof candidate.size === 'number') return value as File;
    throw new GraphQLError('Upload expects a file sent as a multipart request part', { extensions: { code: 'BAD_USER_INPUT' } });
  },
  parseLiteral: () => {
    throw new GraphQLError('Upload cannot be written inline; send the file as a multipart request part', { extensions: { code: 'BAD_USER_INPUT' } });
  },
});
