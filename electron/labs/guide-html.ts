/**
 * The instructor's guide as a printable page: the same Markdown rendered by react-markdown
 * (GitHub's tables through remark-gfm) into one standalone HTML document with its own CSS —
 * tables with borders, each lab on a new page when printed, nothing loaded from elsewhere.
 */
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import Markdown from 'react-markdown';
import remarkGfm from 'remark-gfm';

const CSS = `
body { font: 11pt/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #111; }
h1 { font-size: 1.8em; } h2 { font-size: 1.4em; border-bottom: 2px solid #333; padding-bottom: .2em; margin-top: 2.2em; } h3 { font-size: 1.1em; margin-top: 1.4em; }
table { border-collapse: collapse; width: 100%; margin: .6em 0 1em; font-size: .92em; }
th, td { border: 1px solid #666; padding: .25em .45em; vertical-align: top; text-align: left; }
th { background: #eee; }
code { font: .9em ui-monospace, Menlo, Consolas, monospace; background: #f3f3f3; padding: 0 .2em; }
@page { margin: 15mm; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  h2 { break-before: page; margin-top: 0; }
  h2, h3 { break-after: avoid; }
  tr, li { break-inside: avoid; }
  thead { display: table-header-group; }
  th { background: none; }
}
`;

/** The guide's Markdown (`instructorGuide`) as a standalone HTML document (UTF-8), titled `title`. */
export function guideHtml(markdown: string, title = 'MicroLab: the instructor’s guide'): string {
  const body = renderToStaticMarkup(createElement(Markdown, { remarkPlugins: [remarkGfm] }, markdown));
  const escaped = title.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  return `<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>${escaped}</title>\n<style>${CSS}</style>\n</head>\n<body>\n${body}\n</body>\n</html>\n`;
}
