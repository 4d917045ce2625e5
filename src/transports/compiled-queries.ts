import { getOperationAST, isInputObjectType, Kind, typeFromAST, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { useGraphQlJit } from '@envelop/graphql-jit';
import type { Logger } from '../logger.js';

/**
 * Queries run through graphql-jit: each document is compiled once into plain JavaScript (no
 * per-field walking of the AST, argument re-coercion, or promise per object) and cached with it.
 *
 * Only documents of one query: mutations run once and mostly wait on the database; subscriptions have their own
 * shared execution (shared-execution.ts). And only queries without input-object variables:
 * graphql-jit 0.8's coercion of variables leaves out the defaults of input fields (`orderBy:
 * $order` with `{ direction: ASC }` fails on the missing `field`), where literals are right.
 * The plugin must come before the operation limits, whose deadline wraps whichever execute
 * function it finds.
 */
export function useCompiledQueries(logger: Logger): Plugin {
  const compilable = new WeakMap<DocumentNode, boolean>();
  const isCompilable = (args: ExecutionArgs): boolean => {
    let verdict = compilable.get(args.document);
    if (verdict === undefined) {
      // One operation only: the plugin keeps one compiled query per document, whatever operation
      // a later request names (GraphiQL sends its whole editor with the name of the one to run).
      const operations = args.document.definitions.filter((definition) => definition.kind === Kind.OPERATION_DEFINITION);
      const operation = operations.length === 1 ? getOperationAST(args.document) : null;
      verdict =
        operation?.operation === 'query' &&
        (operation.variableDefinitions ?? []).every((definition) => {
          let type = typeFromAST(args.schema, definition.type);
          while (type && 'ofType' in type) type = type.ofType;
          return type !== undefined && !isInputObjectType(type);
        });
      compilable.set(args.document, verdict);
    }
    return verdict;
  };
  return useGraphQlJit(
    {},
    {
      enableIf: isCompilable,
      // The document did not compile (its errors are the query's answer); log for the operator.
      onError: (result: ExecutionResult) => logger.warn({ errors: result.errors?.map((error) => error.message) }, 'query not compiled'),
    },
  ) as Plugin;
}
