//! Display order of groups and components: sorting as the server sorts, and
//! moving one item up or down as the smallest set of position changes.

/** Anything the editor orders (groups, components). */
export interface Positioned {
  id: string;
  position: number;
  created_at: number;
}

/** The server's order: position, then creation, then id. */
export function byPosition<T extends Positioned>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => a.position - b.position || a.created_at - b.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** A position to send for one item. */
export interface PositionChange {
  id: string;
  position: number;
}

/**
 * Moves the item `id` one place up (`-1`) or down (`1`) in `items` (already
 * in display order). Positions become 0, 1, 2, … so ties (several items at
 * the same position, e.g. all created with the default) cannot make a move a
 * no-op; only the items whose position changes are returned. Moving past
 * either end changes nothing.
 */
export function move<T extends Positioned>(items: readonly T[], id: string, delta: -1 | 1): { items: T[]; changes: PositionChange[] } {
  const from = items.findIndex((i) => i.id === id);
  const to = from + delta;
  if (from < 0 || to < 0 || to >= items.length) return { items: [...items], changes: [] };
  const moved = [...items];
  const [item] = moved.splice(from, 1);
  moved.splice(to, 0, item as T);
  const changes: PositionChange[] = [];
  const out = moved.map((it, position) => {
    if (it.position === position) return it;
    changes.push({ id: it.id, position });
    return { ...it, position };
  });
  return { items: out, changes };
}

/** The position for a new item at the end of `items`. */
export function nextPosition(items: readonly Positioned[]): number {
  return items.reduce((max, i) => Math.max(max, i.position + 1), 0);
}

/** Components as the public page lists them: group by group (in order), then those without a group. */
export function pageOrder<C extends Positioned & { group_id?: string | null }>(groups: readonly Positioned[], components: readonly C[]): C[] {
  const known = new Set(groups.map((g) => g.id));
  const out: C[] = [];
  for (const g of byPosition(groups)) out.push(...byPosition(components.filter((c) => c.group_id === g.id)));
  out.push(...byPosition(components.filter((c) => !c.group_id || !known.has(c.group_id))));
  return out;
}
