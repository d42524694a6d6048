import { describe, expect, it } from 'vitest';
import { byPosition, move, nextPosition, pageOrder } from './order';

const item = (id: string, position: number, created_at = 0) => ({ id, position, created_at });

describe('display order', () => {
  it('sorts as the server does: position, then creation, then id', () => {
    const sorted = byPosition([item('c', 1, 5), item('b', 0, 9), item('a', 1, 5), item('d', 1, 1)]);
    expect(sorted.map((i) => i.id)).toEqual(['b', 'd', 'a', 'c']);
  });

  it('moves an item up by renumbering only what changed', () => {
    const list = [item('a', 0), item('b', 1), item('c', 2)];
    const { items, changes } = move(list, 'c', -1);
    expect(items.map((i) => i.id)).toEqual(['a', 'c', 'b']);
    expect(changes).toEqual([
      { id: 'c', position: 1 },
      { id: 'b', position: 2 },
    ]);
  });

  it('moves items that all share one position (created with the default)', () => {
    const list = [item('a', 0, 1), item('b', 0, 2), item('c', 0, 3)];
    const { items, changes } = move(list, 'a', 1);
    expect(items.map((i) => [i.id, i.position])).toEqual([
      ['b', 0],
      ['a', 1],
      ['c', 2],
    ]);
    // b keeps 0; a and c get new positions so the order is stored.
    expect(changes).toEqual([
      { id: 'a', position: 1 },
      { id: 'c', position: 2 },
    ]);
  });

  it('closes gaps without touching items already in place', () => {
    const { changes } = move([item('a', 0), item('b', 10), item('c', 20)], 'b', -1);
    expect(changes).toEqual([
      { id: 'b', position: 0 },
      { id: 'a', position: 1 },
      { id: 'c', position: 2 },
    ]);
    expect(move([item('a', 0), item('b', 1), item('c', 7)], 'a', 1).changes).toEqual([
      { id: 'b', position: 0 },
      { id: 'a', position: 1 },
      { id: 'c', position: 2 },
    ]);
  });

  it('does nothing past either end or for an unknown id', () => {
    const list = [item('a', 0), item('b', 1)];
    expect(move(list, 'a', -1).changes).toEqual([]);
    expect(move(list, 'b', 1).changes).toEqual([]);
    expect(move(list, 'x', 1)).toEqual({ items: list, changes: [] });
    expect(move([], 'a', 1).changes).toEqual([]);
  });

  it('leaves the input list alone', () => {
    const list = [item('a', 0), item('b', 1)];
    move(list, 'b', -1);
    expect(list).toEqual([item('a', 0), item('b', 1)]);
  });

  it('puts new items after the last', () => {
    expect(nextPosition([])).toBe(0);
    expect(nextPosition([item('a', 3), item('b', 1)])).toBe(4);
  });

  it('lists components group by group, then the ungrouped, as the public page does', () => {
    const groups = [item('g2', 1), item('g1', 0)];
    const comps = [
      { ...item('loose', 0), group_id: null },
      { ...item('b', 1), group_id: 'g1' },
      { ...item('a', 0), group_id: 'g1' },
      { ...item('c', 0), group_id: 'g2' },
      { ...item('orphan', 5), group_id: 'gone' },
    ];
    expect(pageOrder(groups, comps).map((c) => c.id)).toEqual(['a', 'b', 'c', 'loose', 'orphan']);
  });
});
