/** Timing the server's appends, latencies and throughput from the clients' results, and CPU cost. */
import os from 'node:os';
import type { RunStreams } from '../../src/realtime/run-streams.js';
import { nowMs } from '../lib/clock.js';
import { stats, type Stats } from '../lib/stats.js';
import { fixed } from '../lib/table.js';
import type { Clients } from './peers.js';
import { CHUNK_SIZE, type ClientResults } from './protocol.js';

export interface AppendRecord {
  /** streams.append called (the event is ready to be stored and fanned out). */
  callAt: number;
  /** streams.append resolved. */
  storedAt: number;
  /** Model chunks in an ASSISTANT delta; -1 otherwise. */
  first: number;
  last: number;
}

export interface TappedRun {
  records: Map<number, AppendRecord>;
  assistantLength: number;
  lastSeq: number;
}

/** Wraps the store's append (the recorder calls it through the same object) to time every event. */
export function tapAppends(streams: RunStreams): (runId: string) => TappedRun {
  const runs = new Map<string, TappedRun>();
  const runOf = (runId: string) => {
    let run = runs.get(runId);
    if (!run) runs.set(runId, (run = { records: new Map(), assistantLength: 0, lastSeq: 0 }));
    return run;
  };
  const append = streams.append.bind(streams);
  streams.append = async (runId, events) => {
    const callAt = nowMs();
    const run = runOf(runId);
    const ranges = events.map((event) => {
      const data = event.data as { type?: string; kind?: string; text?: string } | null;
      if (data?.type !== 'delta' || data.kind !== 'assistant' || typeof data.text !== 'string') return [-1, -1] as const;
      const first = Math.floor(run.assistantLength / CHUNK_SIZE);
      run.assistantLength += data.text.length;
      return [first, Math.floor((run.assistantLength - 1) / CHUNK_SIZE)] as const;
    });
    const seqs = await append(runId, events);
    const storedAt = nowMs();
    seqs.forEach((seq, index) => {
      run.records.set(seq, { callAt, storedAt, first: ranges[index]![0], last: ranges[index]![1] });
      run.lastSeq = Math.max(run.lastSeq, seq);
    });
    return seqs;
  };
  return runOf;
}

/** Delivered events/s: non-ping events received by all subscribers over first → last receive. */
export const throughput = (r: ClientResults) => (r.events > 1 && r.lastAt > r.firstAt ? r.events / ((r.lastAt - r.firstAt) / 1000) : NaN);

export interface Latencies {
  /** Receive − model emit of the earliest chunk in the delta (the target). */
  e2e: Stats;
  /** Receive − model emit of the latest chunk in the delta. */
  e2eLatest: Stats;
  /** Receive − append called, every event. */
  fanout: Stats;
  /** Per instance of the subscriber (2-instance phase), receive − earliest chunk. */
  bySubscriberParity: [Stats, Stats];
  /** e2e of deltas starting in the first 10% of the chunks, and in the rest. */
  early: Stats;
  late: Stats;
}

/** `since`: fan-out counts only events appended from then on (earlier ones were replayed to the subscribers). */
export function latencies(r: ClientResults, emits: Float64Array, appends: Map<number, AppendRecord>, since: number): Latencies {
  const e2e: number[] = [];
  const e2eLatest: number[] = [];
  const fanout: number[] = [];
  const parity: [number[], number[]] = [[], []];
  const early: number[] = [];
  const late: number[] = [];
  for (let i = 0; i < r.recv.length; i++) {
    const recv = r.recv[i]!;
    const append = appends.get(r.seq[i]!);
    if (append && append.callAt >= since) fanout.push(recv - append.callAt);
    const first = r.first[i]!;
    if (first >= 0 && first < emits.length) {
      const value = recv - emits[first]!;
      e2e.push(value);
      parity[r.sub[i]! % 2]!.push(value);
      (first < emits.length / 10 ? early : late).push(value);
      const last = Math.min(r.last[i]!, emits.length - 1);
      e2eLatest.push(recv - emits[last]!);
    }
  }
  return { e2e: stats(e2e), e2eLatest: stats(e2eLatest), fanout: stats(fanout), bySubscriberParity: [stats(parity[0]), stats(parity[1])], early: stats(early), late: stats(late) };
}

/** Per appended ASSISTANT delta: model emit of its earliest chunk → append called; and the store's append time. */
export function ingest(emits: Float64Array, appends: Map<number, AppendRecord>) {
  const window: number[] = [];
  const store: number[] = [];
  for (const record of appends.values()) {
    store.push(record.storedAt - record.callAt);
    if (record.first >= 0 && record.first < emits.length) window.push(record.callAt - emits[record.first]!);
  }
  return { window: stats(window), store: stats(store) };
}


export interface Scenario {
  name: string;
  results: ClientResults;
  eventsPerSecond: number;
  latency?: Latencies;
  /** Baseline: receive − broadcast. */
  baselineLatency?: Stats;
  cost?: Cost;
}

/** CPU used while a scenario ran: the server process (all its threads) and the client process. */
export interface Cost {
  serverMicros: number;
  clientMicros: number;
  seconds: number;
  load: number;
}

export async function measureCost(clients: Clients) {
  const cpu = process.cpuUsage();
  const client = await clients.cpu();
  const start = nowMs();
  return async (): Promise<Cost> => {
    const used = process.cpuUsage(cpu);
    return { serverMicros: used.user + used.system, clientMicros: (await clients.cpu()) - client, seconds: (nowMs() - start) / 1000, load: os.loadavg()[0]! };
  };
}

export const costCells = (scenario: Scenario) => {
  const cost = scenario.cost;
  if (!cost) return ['-', '-', '-', '-'];
  const events = Math.max(1, scenario.results.events);
  return [
    fixed(cost.serverMicros / events, 1),
    fixed((100 * cost.serverMicros) / 1e6 / cost.seconds, 0) + '%',
    fixed((100 * cost.clientMicros) / 1e6 / cost.seconds, 0) + '%',
    fixed(cost.load, 1),
  ];
};
