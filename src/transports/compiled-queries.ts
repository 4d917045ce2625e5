import { getOperationAST, isInputObjectType, typeFromAST, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { useGraphQlJit } from '@envelop/graphql-jit';
import type { Logger } from '../logger.js';

/**
 * Queries run through graphql-jit: each document is compiled once into plain JavaScript (no
 * per-field walking of the AST, argument re-coercion, or promise per object) and cached with it.
 *
 * Only queries: mutations run once and mostly wait on the database; subscriptions have their own
 * shared execution (shared-execution.ts). And only queries without input-object variables:
 * graphql-jit 0.8's coercion of variables leaves out the defaults of input fields (`orderBy:
 * $order` with `{ direction: ASC }` fails on the missing `field`), where literals are right.
 * The plugin must come before the operation limits, whose deadline wraps whichever execute
 * function it finds.
 */
export function useCompiledQueries(logger: Logger): Plugin {
  const compilable = new WeakMap<DocumentNode, Map<string, boolean>>();
  const isCompilable = (args: ExecutionArgs): boolean => {
    const name = args.operationName ?? '';
    let byOperation = compilable.get(args.document);
    if (!byOperation) compilable.set(args.document, (byOperation = new Map()));
    let verdict = byOperation.get(name);
    if (verdict === undefined) {
      const operation = getOperationAST(args.document, args.operationName);
      verdict =
        operation?.operation === 'query' &&
        (operation.variableDefinitions ?? []).every((definition) => {
          let type = typeFromAST(args.schema, definition.type);
          while (type && 'ofType' in type) type = type.ofType;
          return type !== undefined && !isInputObjectType(type);
        });
      byOperation.set(name, verdict);
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
