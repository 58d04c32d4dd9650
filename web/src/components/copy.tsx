/** A copy-to-clipboard button; where the Clipboard API is unavailable (plain http), it selects the text. */
import { useToast } from './toast.js';

export function CopyButton({ text, label, targetId }: { text: string; label: string; targetId?: string }) {
  const toast = useToast();
  async function copy() {
    try {
      if (!navigator.clipboard) throw new Error('no clipboard');
      await navigator.clipboard.writeText(text);
      toast('Copied');
    } catch {
      const target = targetId ? document.getElementById(targetId) : null;
      if (target) {
        const range = document.createRange();
        range.selectNodeContents(target);
        const selection = window.getSelection();
        selection?.removeAllRanges();
        selection?.addRange(range);
        toast('Selected: press Ctrl+C to copy');
      } else {
        toast('Copy failed', 'error');
      }
    }
  }
  return (
    <button type="button" className="small" onClick={() => void copy()} aria-label={label}>
      Copy
    </button>
  );
}
