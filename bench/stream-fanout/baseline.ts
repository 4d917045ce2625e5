/** The baseline: a plain `ws` server broadcasting the graphql-ws frames the GraphQL clients received. */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { nowMs, sleep } from '../lib/clock.js';
import type { AppendRecord } from './measure.js';

export class BaselineServer {
  private readonly server = http.createServer((_req, res) => res.writeHead(404).end());
  private wss!: import('ws').WebSocketServer;
  url = '';

  async start(): Promise<void> {
    const { WebSocketServer } = await import('ws');
    this.wss = new WebSocketServer({ server: this.server });
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    this.url = `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
  }

  get clients(): number {
    return this.wss.clients.size;
  }

  private broadcast(data: string): void {
    for (const client of this.wss.clients) client.send(data);
  }

  /** Sends each frame to every client at its offset (ms after the start); returns when each was sent. */
  async paced(frames: Frame[], complete: string): Promise<Map<number, number>> {
    const sentAt = new Map<number, number>();
    const start = nowMs();
    let i = 0;
    while (i < frames.length) {
      while (i < frames.length && frames[i]!.offset <= nowMs() - start) {
        sentAt.set(frames[i]!.seq, nowMs());
        this.broadcast(frames[i]!.data);
        i += 1;
      }
      if (i < frames.length) await sleep(Math.max(0, frames[i]!.offset - (nowMs() - start)));
    }
    this.broadcast(complete);
    return sentAt;
  }

  /** Every frame to every client back to back, yielding to the event loop between frames. */
  async burst(frames: Frame[], complete: string): Promise<Map<number, number>> {
    const sentAt = new Map<number, number>();
    for (const frame of frames) {
      sentAt.set(frame.seq, nowMs());
      this.broadcast(frame.data);
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.broadcast(complete);
    return sentAt;
  }

  async close(): Promise<void> {
    for (const client of this.wss?.clients ?? []) client.terminate();
    await new Promise<void>((resolve) => (this.wss ? this.wss.close(() => resolve()) : resolve()));
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export interface Frame {
  seq: number;
  offset: number;
  data: string;
}

/** The graphql-ws frames of the events subscriber 0 received, on the run's append schedule. */
export function framesOf(sample: unknown[], appends: Map<number, AppendRecord>): { frames: Frame[]; complete: string } {
  const id = randomUUID();
  const seqOf = (value: unknown) => (value as { data: { runEvents: { seq: number } } }).data.runEvents.seq;
  const start = appends.get(seqOf(sample[0]))?.callAt ?? 0;
  const frames = sample.map((payload) => {
    const seq = seqOf(payload);
    return { seq, offset: (appends.get(seq)?.callAt ?? start) - start, data: JSON.stringify({ id, type: 'next', payload }) };
  });
  return { frames, complete: JSON.stringify({ id, type: 'complete' }) };
}
