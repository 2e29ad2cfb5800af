// Where keyboard focus goes after an action: to what the action produced. A control that starts
// an action is often disabled or removed by it (Run, Cancel, Token activations), which would drop
// focus on <body> and leave a keyboard or screen-reader user at the top of the page.
import { useEffect, useRef } from 'react';

/** Focus has nowhere meaningful to be: on <body>, or on an element that was disabled or removed. */
export function focusIsLost(): boolean {
  const active = document.activeElement as (HTMLElement & { disabled?: boolean }) | null;
  return !active || active === document.body || active.disabled === true || !active.isConnected;
}

/** Ref callback: focuses the element as it mounts if focus was lost (the result of an action whose
 * control went away). Stable identity, so React calls it once per mount. */
export function focusIfLost(element: HTMLElement | null): void {
  if (element && focusIsLost()) element.focus();
}

/** Ref callback for what only appears because the user asked for it (a drill-down): focused on mount. */
export function focusOnMount(element: HTMLElement | null): void {
  element?.focus();
}

/** Focuses the first <h2> inside the returned ref's element whenever `step` changes (not on the first
 * render): a new wizard step is announced by its heading, and Tab continues from there. */
export function useStepFocus(step: string) {
  const ref = useRef<HTMLDivElement>(null);
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const heading = ref.current?.querySelector<HTMLElement>('h2');
    if (!heading) return;
    heading.tabIndex = -1;
    heading.focus();
  }, [step]);
  return ref;
}
