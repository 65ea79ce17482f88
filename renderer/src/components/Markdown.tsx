import ReactMarkdown from 'react-markdown';
import type { Components } from 'react-markdown';
import remarkGfm from 'remark-gfm';

/** Links in a guide open outside the app (Electron denies new windows; the browser opens a tab). */
const COMPONENTS: Components = {
  a: ({ href, children }) => (
    <a href={href} target="_blank" rel="noreferrer noopener">
      {children}
    </a>
  ),
};

const PLUGINS = [remarkGfm];

/**
 * A lab's Markdown (steps, hints, intro, finish), rendered as React elements: CommonMark
 * (headings, lists, emphasis, code spans and fenced blocks, links) and GitHub's tables (the
 * guides use them); raw HTML in the text is not rendered, so a guide cannot inject markup or
 * scripts.
 */
export function Markdown({ text, className }: { text: string; className?: string }) {
  return (
    <div className={`markdown ${className ?? ''}`}>
      <ReactMarkdown components={COMPONENTS} remarkPlugins={PLUGINS} skipHtml>
        {text}
      </ReactMarkdown>
    </div>
  );
}
