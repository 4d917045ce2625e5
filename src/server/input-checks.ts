import { Kind, visit, type DocumentNode, type ExecutionArgs } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { findInputProblem, isWellFormed, type InputProblem } from '../input-safety.js';

/**
 * Hostile input that passes the schema's types: lone surrogates anywhere, JSON variables nested
 * deeper than MAX_JSON_DEPTH. Refused with BAD_USER_INPUT before anything executes, on every
 * transport (streamed operations call `operationInputProblem` in transports/operation.ts).
 * NUL characters are refused where they reach PostgreSQL (schema/error-masking.ts): some fields
 * (block values, agent files) strip them on purpose.
 */
export function operationInputProblem(document: DocumentNode, variables: unknown): InputProblem | undefined {
  const fromVariables = variables == null ? undefined : findInputProblem(variables, 'variables');
  if (fromVariables) return fromVariables;
  let problem: InputProblem | undefined;
  visit(document, {
    [Kind.STRING](node) {
      if (!problem && !isWellFormed(node.value)) {
        const line = node.loc ? ` (line ${node.loc.startToken.line})` : '';
        problem = { path: `query${line}`, message: 'a string contains a lone surrogate (an unpaired \\ud800-\\udfff), which is not valid Unicode' };
      }
    },
  });
  return problem;
}

export function inputProblemError(problem: InputProblem) {
  return createGraphQLError(`${problem.path}: ${problem.message}`, { extensions: { code: 'BAD_USER_INPUT', path: problem.path } });
}

function check(args: ExecutionArgs, stop: (result: { errors: ReturnType<typeof inputProblemError>[] }) => void) {
  const problem = operationInputProblem(args.document, args.variableValues);
  if (problem) stop({ errors: [inputProblemError(problem)] });
}

export function useInputChecks(): Plugin {
  return {
    onExecute: ({ args, setResultAndStopExecution }) => check(args, setResultAndStopExecution),
    onSubscribe: ({ args, setResultAndStopExecution }) => check(args, setResultAndStopExecution as never),
  };
}
