/** BENCH_PROFILE=1: CPU profiles and heap sampling of the server thread, printed as top-N tables. */
import { printTable } from '../lib/table.js';
import { settledMemory } from './memory.js';

export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

export const PROFILE = process.env.BENCH_PROFILE === '1';
/** BENCH_PROFILE_DIR: also write each CPU profile there as a .cpuprofile (Chrome DevTools, speedscope). */
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR;

export async function startProfile() {
  if (!PROFILE) return { stop: async (_title: string): Promise<unknown> => undefined };
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  return {
    stop: async (title: string) => {
      const { profile } = (await session.post('Profiler.stop')) as { profile: { nodes: CpuProfileNode[] } };
      session.disconnect();
      printProfile(title, profile.nodes);
      if (PROFILE_DIR) await saveProfile(title, profile);
      return profile as unknown;
    },
  };
}

async function saveProfile(title: string, profile: unknown): Promise<void> {
  const { mkdir, writeFile } = await import('node:fs/promises');
  await mkdir(PROFILE_DIR!, { recursive: true });
  const file = `${PROFILE_DIR}/${title.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '')}.cpuprofile`;
  await writeFile(file, JSON.stringify(profile));
  console.log(`profile written to ${file}`);
}

export interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

/**
 * V8's sampling heap profiler from now on: at stop (after a forced GC) it reports the sampled
 * objects allocated meanwhile that are still alive, by allocation stack.
 */
export async function startHeapSampling() {
  if (!PROFILE) return { stop: async (_title: string): Promise<unknown> => undefined };
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.enable');
  await session.post('HeapProfiler.startSampling', { samplingInterval: 4096 });
  return {
    stop: async (title: string, count: number) => {
      await settledMemory();
      const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: HeapNode } };
      session.disconnect();
      printHeapProfile(title, profile.head, count);
    },
  };
}

export function printHeapProfile(title: string, head: HeapNode, count: number): void {
  const label = (frame: HeapNode['callFrame']) => `${frame.functionName || '(anonymous)'} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
  const modules = new Map<string, number>();
  const bySrc = new Map<string, number>();
  const bySite = new Map<string, number>();
  let total = 0;
  const walk = (node: HeapNode, srcFrame: string | undefined, stack: string[]) => {
    const here = label(node.callFrame);
    const src = shortUrl(node.callFrame.url).startsWith('src/') ? here : srcFrame;
    if (node.selfSize > 0) {
      total += node.selfSize;
      const module = moduleOf(node.callFrame.url, node.callFrame.functionName);
      modules.set(module, (modules.get(module) ?? 0) + node.selfSize);
      const key = src ?? '(no src/ frame on the stack)';
      bySrc.set(key, (bySrc.get(key) ?? 0) + node.selfSize);
      const site = [...stack.slice(-2), here].join(' < ');
      bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
    }
    for (const child of node.children) walk(child, src, [...stack.slice(-3), here]);
  };
  walk(head, undefined, []);
  const perItem = (bytes: number) => `${(bytes / count / 1024).toFixed(2)} KB`;
  const top = (map: Map<string, number>, n: number) => [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
  console.log(`\nlive heap allocated while ${title}, by allocation site (sampled, after GC): ${perItem(total)} per subscription`);
  printTable(['allocated in module', 'per subscription'], top(modules, 10).map(([key, bytes]) => [key, perItem(bytes)]));
  printTable(['innermost src/ frame on the allocation stack', 'per subscription'], top(bySrc, 10).map(([key, bytes]) => [key, perItem(bytes)]));
  printTable(['allocation site (caller < … < allocating function)', 'per subscription'], top(bySite, 14).map(([key, bytes]) => [key, perItem(bytes)]));
}

export const ROOT = new URL('../..', import.meta.url).href;

export function shortUrl(url: string): string {
  const path = url.startsWith(ROOT) ? url.slice(ROOT.length) : url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('node_modules/');
  return modules >= 0 ? path.slice(modules + 'node_modules/'.length) : path;
}

export function moduleOf(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native/V8 builtins)';
  const path = shortUrl(url);
  if (path.startsWith('node:')) return 'node:' + path.slice(5).split('/').slice(0, 2).join('/');
  if (url.includes('node_modules/')) {
    const parts = path.split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  return path;
}

export function printProfile(title: string, nodes: CpuProfileNode[]): void {
  const byId = new Map(nodes.map((node) => [node.id, node]));
  const total = nodes.reduce((sum, node) => sum + (node.hitCount ?? 0), 0);
  const label = (node: CpuProfileNode) => `${node.callFrame.functionName || '(anonymous)'} ${shortUrl(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`;
  const self = new Map<string, number>();
  const modules = new Map<string, number>();
  for (const node of nodes) {
    const hits = node.hitCount ?? 0;
    self.set(label(node), (self.get(label(node)) ?? 0) + hits);
    const module = moduleOf(node.callFrame.url, node.callFrame.functionName);
    modules.set(module, (modules.get(module) ?? 0) + hits);
  }
  // Inclusive time per function (a recursive function counted once per stack).
  const inclusive = new Map<string, number>();
  const subtree = new Map<number, number>();
  const sizeOf = (node: CpuProfileNode): number => {
    let sum = node.hitCount ?? 0;
    for (const child of node.children ?? []) sum += sizeOf(byId.get(child)!);
    subtree.set(node.id, sum);
    return sum;
  };
  const root = nodes[0]!;
  sizeOf(root);
  const active = new Map<string, number>();
  const walk = (node: CpuProfileNode) => {
    const key = label(node);
    if (!active.get(key)) inclusive.set(key, (inclusive.get(key) ?? 0) + subtree.get(node.id)!);
    active.set(key, (active.get(key) ?? 0) + 1);
    for (const child of node.children ?? []) walk(byId.get(child)!);
    active.set(key, active.get(key)! - 1);
  };
  walk(root);
  const pct = (hits: number) => `${((100 * hits) / Math.max(1, total)).toFixed(1)}%`;
  const top = (map: Map<string, number>, n: number, filter: (key: string) => boolean = () => true) =>
    [...map.entries()].filter(([key]) => filter(key)).sort((a, b) => b[1] - a[1]).slice(0, n);
  console.log(`\nCPU profile of the server thread, ${title} (${total} samples of 0.5 ms)`);
  printTable(['self time by module', 'share'], top(modules, 14).map(([key, hits]) => [key, pct(hits)]));
  printTable(['self time by function', 'share'], top(self, 18).map(([key, hits]) => [key, pct(hits)]));
  printTable(
    ['inclusive time, functions of src/ and graphql/graphql-ws', 'share'],
    top(inclusive, 18, (key) => / (src\/|graphql\/|graphql-ws\/|@graphql-yoga|@envelop)/.test(key)).map(([key, hits]) => [key, pct(hits)]),
  );
}
