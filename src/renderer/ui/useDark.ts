/**
 * Whether the page is in the dark theme (the `dark` class on <html>), as React state: components
 * that draw with explicit colours (canvas charts) re-render when the theme switches.
 */
import { useSyncExternalStore } from 'react';

const isDark = (): boolean => document.documentElement.classList.contains('dark');

function subscribe(onChange: () => void): () => void {
  const observer = new MutationObserver(onChange);
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['class'] });
  return () => observer.disconnect();
}

/** True while the dark theme is on; updates when it is toggled. */
export function useDark(): boolean {
  return useSyncExternalStore(subscribe, isDark);
}
