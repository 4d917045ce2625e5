import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * Typed documents, generated offline from schema.graphql: for the operations the tests and
 * benchmarks send, and for the browser chat example (examples/chat).
 */
const scalars = { DateTime: 'string', JSON: 'unknown' };

const config: CodegenConfig = {
  schema: 'schema.graphql',
  ignoreNoDocuments: true,
  // Typed documents are written with graphql(`...`); the tests' untyped gql(`...`) strings are not for codegen.
  pluckConfig: { globalGqlIdentifierName: ['graphql'] },
  generates: {
    'src/generated/gql/': {
      documents: ['test/**/*.ts', 'bench/**/*.ts', '!test/generated/**'],
      preset: 'client',
      config: {
        emitLegacyCommonJSImports: false,
        useTypeImports: true,
        scalars,
        enumsAsTypes: true,
      },
      presetConfig: { fragmentMasking: false },
    },
    'examples/chat/src/gql/': {
      documents: ['examples/chat/src/**/*.{ts,tsx}', '!examples/chat/src/gql/**'],
      preset: 'client',
      config: { useTypeImports: true, scalars: { ...scalars, Upload: 'File' }, enumsAsTypes: true },
      presetConfig: { fragmentMasking: false },
    },
  },
};

export default config;
