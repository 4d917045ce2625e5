import type { CodegenConfig } from '@graphql-codegen/cli';

/** Typed documents for the operations the tests (and benchmarks) send; runs offline from schema.graphql. */
const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['test/**/*.ts', 'bench/**/*.ts', '!test/generated/**'],
  ignoreNoDocuments: true,
  generates: {
    'src/generated/gql/': {
      preset: 'client',
      config: {
        emitLegacyCommonJSImports: false,
        useTypeImports: true,
        scalars: { DateTime: 'string', JSON: 'unknown' },
        enumsAsTypes: true,
      },
      presetConfig: { fragmentMasking: false },
    },
  },
};

export default config;
