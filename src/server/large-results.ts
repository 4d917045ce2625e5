import type { ExecutionResult } from 'graphql';
import { isAsyncIterable, processRegularResult, type Plugin } from 'graphql-yoga';
import { estimateAtLeast, jsonChunks } from './json-slices.js';

/**
 * A large HTTP result (an agent export of several megabytes) is written in slices (json-slices.ts)
 * instead of yoga's one JSON.stringify, which with the byte encoding that follows held the main
 * thread for over 100 ms (issue 13). Only successful results take this path: a result with errors
 * (whose status and error formatting are yoga's) is small anyway.
 */

/** From this size of JSON text (estimated), a result is written in slices. */
const LARGE_RESULT_CHARS = 256 * 1024;

const JSON_MEDIA_TYPES = ['application/graphql-response+json', 'application/json'];

/** The JSON media type yoga's regular processor answers with: as in yoga, the last match of the Accept header's types (in reverse order) wins. */
function jsonMediaType(request: Request): string {
  const accepted = (request.headers.get('accept') || '*/*').replace(/\s/g, '').toLowerCase().split(',').reverse();
  let chosen = 'application/json';
  for (const entry of accepted) {
    const [asked = ''] = entry.split(';');
    const [askedType, askedSubtype] = asked.split('/');
    for (const type of JSON_MEDIA_TYPES) {
      const [major, minor] = type.split('/');
      if ((askedType === '*' || askedType === major) && (askedSubtype === '*' || askedSubtype === minor)) chosen = type;
    }
  }
  return chosen;
}

/** The responses this plugin made: their bodies are slices of bytes, not one text. */
const slicedResults = new WeakSet<Response>();

export const isSlicedResult = (response: Response): boolean => slicedResults.has(response);

export function useSlicedLargeResults(): Plugin {
  return {
    onResultProcess({ request, result, resultProcessor, setResultProcessor }) {
      if (resultProcessor !== processRegularResult || Array.isArray(result) || isAsyncIterable(result)) return;
      // A compiled query's result carries graphql-jit's `stringify`, which is JSON.stringify here
      // (no custom serializer): the slices write the same text.
      const single = result as ExecutionResult & { extensions?: { http?: unknown } };
      if (single.errors?.length || single.extensions?.http || !estimateAtLeast(single, LARGE_RESULT_CHARS)) return;
      const mediaType = jsonMediaType(request);
      setResultProcessor(
        (large, fetchAPI) => {
          const response = new fetchAPI.Response(jsonChunks(large) as unknown as BodyInit, { status: 200, headers: { 'Content-Type': `${mediaType}; charset=utf-8` } });
          slicedResults.add(response);
          return response;
        },
        mediaType,
      );
    },
  };
}
