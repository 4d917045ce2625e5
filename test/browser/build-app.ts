import { fileURLToPath } from 'node:url';
import { build } from 'vite';

/** Builds examples/chat once before the browser tests (its typed documents come from `npm run codegen`). */
export default async function buildApp(): Promise<void> {
  // The production build, as it would be deployed (vitest's NODE_ENV=test would select React's development build).
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ configFile: fileURLToPath(new URL('../../examples/chat/vite.config.ts', import.meta.url)), mode: 'production', logLevel: 'warn' });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
}
