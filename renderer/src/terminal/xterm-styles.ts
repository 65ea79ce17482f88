/**
 * xterm.js writes its dynamic styles (cell metrics, theme, font, scrollbar) into `<style>`
 * elements it creates at run time. The UI's Content Security Policy (`style-src 'self'`,
 * electron/api/security.ts) refuses inline style elements, even empty ones, so those rules
 * would never apply and every one would log a violation.
 *
 * CodeMirror meets the same policy with constructable stylesheets (`adoptedStyleSheets`),
 * which the CSP does not govern; this does the same for xterm, without loosening the policy:
 * a `<style>` element created by script becomes an inert stand-in (a `<template>`, never
 * rendered) whose `textContent` goes into an adopted stylesheet, dropped again by `remove()`
 * (which is how xterm disposes of its style elements). Nothing else in the UI creates style
 * elements by script (they could not apply under this CSP anyway).
 */
const INSTALLED = Symbol.for('microlab.adoptScriptStyles');

export function adoptScriptStyles(doc: Document = document): void {
  const marked = doc as Document & { [INSTALLED]?: true };
  if (marked[INSTALLED]) return;
  marked[INSTALLED] = true;
  const create = doc.createElement.bind(doc);
  doc.createElement = ((tagName: string, options?: ElementCreationOptions) =>
    String(tagName).toLowerCase() === 'style'
      ? standIn(doc, create)
      : create(tagName, options)) as typeof doc.createElement;
}

function standIn(doc: Document, create: Document['createElement']): HTMLStyleElement {
  const element = create('template');
  const sheet = new CSSStyleSheet();
  let text = '';
  let adopted = false;
  Object.defineProperty(element, 'textContent', {
    configurable: true,
    get: () => text,
    set: (value: unknown) => {
      text = value === null || value === undefined ? '' : String(value);
      sheet.replaceSync(text);
      if (!adopted) {
        doc.adoptedStyleSheets = [...doc.adoptedStyleSheets, sheet];
        adopted = true;
      }
    },
  });
  const remove = element.remove.bind(element);
  element.remove = () => {
    if (adopted) doc.adoptedStyleSheets = doc.adoptedStyleSheets.filter((s) => s !== sheet);
    adopted = false;
    remove();
  };
  return element as unknown as HTMLStyleElement;
}
