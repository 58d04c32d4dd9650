/**
 * Markdown notes rendered safely: markdown-it with raw HTML disabled (it is shown as text) and its link
 * validation (no javascript:, vbscript:, file: or data: links), under the page's strict CSP.
 */
import MarkdownIt from 'markdown-it';
import { useMemo } from 'react';

const markdown = new MarkdownIt({ html: false, linkify: true, breaks: false });

// Links open outside the console and tell the target nothing.
const defaultLinkOpen =
  markdown.renderer.rules.link_open ??
  ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
markdown.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  tokens[idx]!.attrSet('rel', 'noopener noreferrer nofollow');
  tokens[idx]!.attrSet('target', '_blank');
  return defaultLinkOpen(tokens, idx, options, env, self);
};

export function renderMarkdown(text: string): string {
  return markdown.render(text);
}

export function Markdown({ text }: { text: string }) {
  const html = useMemo(() => renderMarkdown(text), [text]);
  // markdown-it escapes every HTML tag in the source (html: false), so this is its own safe output.
  return <div className="markdown" dangerouslySetInnerHTML={{ __html: html }} />;
}
