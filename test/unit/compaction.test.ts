import { describe, expect, it } from 'vitest';
import { planCompaction, type PlannedMessage } from '../../src/agent/compaction.js';
import { splitSystemPrompt } from '../../src/agent/context-window.js';
import { reciprocalRankFusion } from '../../src/services/messages/message-search.js';

const turn = (n: number, tokens = 100): PlannedMessage[] => [
  { id: `u${n}`, role: 'user', tokens, pendingApproval: false },
  { id: `a${n}`, role: 'assistant', tokens, pendingApproval: false },
  { id: `t${n}`, role: 'tool', tokens, pendingApproval: false },
  { id: `r${n}`, role: 'assistant', tokens, pendingApproval: false },
];

describe('planCompaction', () => {
  it('evicts the oldest turns up to a user message, so no tool result loses its call', () => {
    const messages = [1, 2, 3, 4, 5].flatMap((n) => turn(n));
    const plan = planCompaction(messages, 200, 2500, 'sliding_window')!;
    expect(plan.mode).toBe('sliding_window');
    expect(plan.kept[0]).toMatch(/^u/);
    expect(plan.evicted.at(-1)).toMatch(/^r/);
    expect([...plan.evicted, ...plan.kept]).toEqual(messages.map((m) => m.id));
    // The kept part fits (1 - 0.3) of the window with the fixed part.
    expect(200 + plan.kept.length * 100).toBeLessThanOrEqual(0.7 * 2500);
  });

  it('never evicts a trailing pending approval', () => {
    const messages = [...turn(1), ...turn(2), { id: 'u3', role: 'user', tokens: 10, pendingApproval: false }, { id: 'ap', role: 'approval', tokens: 10, pendingApproval: true }];
    const all = planCompaction(messages, 100, 1000, 'all')!;
    expect(all.kept).toEqual(['ap']);
    expect(all.evicted).not.toContain('ap');
    expect(planCompaction([messages.at(-1)!], 100, 1000, 'all')).toBeNull();
  });

  it('has nothing to plan for an empty context, and keeps the current turn when only it fits', () => {
    expect(planCompaction([], 100, 1000, 'sliding_window')).toBeNull();
    const big = [...turn(1, 50), ...turn(2, 180)];
    const plan = planCompaction(big, 100, 1000, 'sliding_window')!;
    expect(plan.kept).toEqual(['u2', 'a2', 't2', 'r2']);
  });
});

describe('reciprocalRankFusion', () => {
  it('adds 0.5/(60 + rank) per list and sorts by the sum', () => {
    const fused = reciprocalRankFusion(
      [{ id: 'a', score: 0.9 }, { id: 'b', score: 0.8 }],
      [{ id: 'b', score: 3 }, { id: 'c', score: 2 }],
      10,
    );
    expect(fused.map((item) => item.id)).toEqual(['b', 'a', 'c']);
    expect(fused[0]).toEqual({ id: 'b', vectorRank: 2, ftsRank: 1, rrfScore: 0.5 / 62 + 0.5 / 61 });
    expect(fused[1]).toEqual({ id: 'a', vectorRank: 1, ftsRank: null, rrfScore: 0.5 / 61 });
    expect(reciprocalRankFusion([{ id: 'a', score: 1 }], [], 0)).toEqual([]);
  });
});

describe('splitSystemPrompt', () => {
  it('partitions the text: the sections concatenate back to it', () => {
    const text = 'Base.\n<memory_blocks>\nblock\n</memory_blocks>\n\n<tool_usage_rules>r</tool_usage_rules>\n<memory_metadata>\nmeta\n</memory_metadata>\nTail.';
    const parts = splitSystemPrompt(text);
    expect(parts.coreMemory).toBe('<memory_blocks>\nblock\n</memory_blocks>');
    expect(parts.toolUsageRules).toBe('<tool_usage_rules>r</tool_usage_rules>');
    expect(parts.externalMemorySummary).toBe('<memory_metadata>\nmeta\n</memory_metadata>');
    expect(parts.systemPrompt).toBe('Base.\n\n\n\n\nTail.');
    const total = Object.values(parts).reduce((n, part) => n + part.length, 0);
    expect(total).toBe(text.length);
  });
});
