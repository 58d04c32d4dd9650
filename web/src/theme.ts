/** Light, dark or the system's choice; remembered in this browser. */
import { useEffect, useState } from 'react';

export type ThemeChoice = 'system' | 'light' | 'dark';
const KEY = 'firebreak.theme';

function stored(): ThemeChoice {
  const value = localStorage.getItem(KEY);
  return value === 'light' || value === 'dark' ? value : 'system';
}

export function useTheme(): [ThemeChoice, () => void] {
  const [choice, setChoice] = useState<ThemeChoice>(stored);
  useEffect(() => {
    const root = document.documentElement;
    if (choice === 'system') root.removeAttribute('data-theme');
    else root.setAttribute('data-theme', choice);
    localStorage.setItem(KEY, choice);
  }, [choice]);
  const cycle = () => setChoice((c) => (c === 'system' ? 'dark' : c === 'dark' ? 'light' : 'system'));
  return [choice, cycle];
}
