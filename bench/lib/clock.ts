/** Milliseconds on the monotonic clock (CLOCK_MONOTONIC): comparable between the threads and processes of this machine. */
export const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
