//! "Move up" / "Move down" buttons: plain buttons, so the keyboard and screen
//! readers use them as they are; focus follows the item that moved.

/** Puts focus back on the moved item's button once it has re-rendered in its new place. */
export function focusAfterMove(idBase: string, delta: -1 | 1): void {
  window.setTimeout(() => {
    const wanted = document.getElementById(`${idBase}-${delta < 0 ? 'up' : 'down'}`) as HTMLButtonElement | null;
    // At the top (or bottom) that button is disabled; the other one takes focus.
    const other = document.getElementById(`${idBase}-${delta < 0 ? 'down' : 'up'}`);
    (wanted && !wanted.disabled ? wanted : other)?.focus();
  }, 0);
}

export function MoveButtons({ idBase, name, first, last, onMove }: { idBase: string; name: string; first: boolean; last: boolean; onMove: (delta: -1 | 1) => void }) {
  return (
    <span class="move-buttons">
      <button id={`${idBase}-up`} type="button" class="button button-secondary button-icon" disabled={first} onClick={() => onMove(-1)}>
        <span aria-hidden="true">↑</span>
        <span class="visually-hidden">Move {name} up</span>
      </button>
      <button id={`${idBase}-down`} type="button" class="button button-secondary button-icon" disabled={last} onClick={() => onMove(1)}>
        <span aria-hidden="true">↓</span>
        <span class="visually-hidden">Move {name} down</span>
      </button>
    </span>
  );
}
