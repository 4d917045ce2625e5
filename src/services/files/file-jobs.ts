import { inBackground } from '../../db/embedded-pool.js';
import { processFile, type FileJobDeps } from './file-processing.js';
import type { FileJobs } from '../platform/context.js';

const NON_TERMINAL = ['pending', 'parsing', 'embedding'] as const;

/**
 * Background processing of uploaded files, in process: one file at a time, in upload order.
 * Restart-safe: a file whose processing stopped without reaching `completed` or `error` (its
 * process died) is processed again once it has made no progress for `staleMs` — at start-up and
 * then every `staleMs` — by whichever instance claims it first.
 */
export function createFileJobs(deps: FileJobDeps, options: { recoverAll: boolean }): FileJobs {
  const queue: string[] = [];
  const abort = new AbortController();
  let running: Promise<void> | undefined;
  let idleWaiters: Array<() => void> = [];

  const drain = async () => {
    while (queue.length > 0 && !abort.signal.aborted) {
      const fileId = queue.shift()!;
      const started = performance.now();
      try {
        // On the embedded database's one connection, requests and runs go before this work.
        await inBackground(() => processFile(deps, fileId, abort.signal));
        deps.observe?.('completed', (performance.now() - started) / 1000);
      } catch (error) {
        deps.observe?.('failed', (performance.now() - started) / 1000);
        if (!abort.signal.aborted) deps.logger.error({ err: error, fileId }, 'file processing failed unexpectedly');
      }
    }
    running = undefined;
    for (const resolve of idleWaiters) resolve();
    idleWaiters = [];
  };

  const enqueue = (fileId: string) => {
    if (abort.signal.aborted || queue.includes(fileId)) return;
    queue.push(fileId);
    running ??= drain();
  };

  /** Claims stale unfinished files (one instance wins each) and queues them. */
  const recover = async (all: boolean) => {
    const before = new Date(Date.now() - (all ? 0 : deps.staleMs));
    const stale = await deps.prisma.file.findMany({
      where: { processingStatus: { in: [...NON_TERMINAL] }, ...(all ? {} : { updatedAt: { lt: before } }) },
      select: { id: true, processingStatus: true, updatedAt: true },
      orderBy: { createdAt: 'asc' },
      take: 100,
    });
    for (const file of stale) {
      if (queue.includes(file.id)) continue;
      const claimed = await deps.prisma.file.updateMany({
        where: { id: file.id, processingStatus: file.processingStatus, updatedAt: file.updatedAt },
        data: { processingStatus: 'pending', chunksEmbedded: 0 },
      });
      if (claimed.count === 1) {
        deps.logger.info({ fileId: file.id, was: file.processingStatus }, 'resuming file processing left unfinished');
        enqueue(file.id);
      }
    }
  };

  const sweep = () =>
    recover(false).catch((error: unknown) => {
      if (!abort.signal.aborted) deps.logger.error({ err: error }, 'file recovery sweep failed');
    });
  // Embedded mode has one process per database: whatever is unfinished at start-up is orphaned.
  void recover(options.recoverAll).catch((error: unknown) => deps.logger.error({ err: error }, 'file recovery failed'));
  const timer = setInterval(sweep, deps.staleMs);
  timer.unref();

  return {
    enqueue,
    idle: () => (running ? new Promise<void>((resolve) => idleWaiters.push(resolve)) : Promise.resolve()),
    async close() {
      clearInterval(timer);
      abort.abort();
      queue.length = 0;
      await running;
    },
  };
}
