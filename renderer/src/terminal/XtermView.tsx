/**
 * One session's terminal: xterm.js sized to its box by the fit add-on. Keys go to the session
 * as `terminal:input`, in order, a long paste in pieces (MAX_INPUT_CHARS a call; a paste
 * over MAX_PASTE_CHARS is refused in the terminal, with the limit); a new size goes as `terminal:resize`, debounced (reflowing a wide
 * buffer is expensive, as VS Code's terminal notes), and only when it changed. The terminal
 * stays mounted while hidden, so its buffer survives switching tabs and views.
 *
 * For tests and the labs' checks, the element carries `data-session` and a `terminalText()`
 * method that returns the buffer's text (scrollback included), one line per row.
 */
import { FitAddon } from '@xterm/addon-fit';
import { Terminal } from '@xterm/xterm';
import { useEffect, useRef } from 'react';
import type { Api } from '../../../electron/api/contract';
import { inputPieces, MAX_PASTE_CHARS } from '../../../electron/api/terminal-input';
import type { OutputRouter } from './TerminalContext';
import { adoptScriptStyles } from './xterm-styles';

adoptScriptStyles();

const RESIZE_DEBOUNCE_MS = 80;

/** What the terminal shows when a paste is too long to send (in yellow, on lines of its own). */
export function pasteRefusal(chars: number): string {
  const n = (x: number) => x.toLocaleString('en-US');
  return (
    `\r\n\x1b[33m[MicroLab] paste not sent: ${n(chars)} characters, more than the ${n(MAX_PASTE_CHARS)} ` +
    'a paste may carry. For a file, use `microlab exec WORKLOAD -- sh -c "cat > FILE" < FILE`.\x1b[0m\r\n'
  );
}

/** Fits a terminal to its box, then tells the session; shared by the view and its first sizing. */
function fitTo(fit: FitAddon, term: Terminal): void {
  const box = term.element?.parentElement;
  if (!box || box.clientWidth === 0 || box.clientHeight === 0) return; // hidden: keep the size
  fit.fit();
}

export function XtermView({
  api,
  sessionId,
  router,
  visible,
  ended,
}: {
  api: Api;
  sessionId: string;
  router: OutputRouter;
  visible: boolean;
  ended: boolean;
}) {
  const box = useRef<HTMLDivElement>(null);
  const termRef = useRef<Terminal>(undefined);
  const fitRef = useRef<FitAddon>(undefined);
  const endedRef = useRef(ended);
  endedRef.current = ended;

  useEffect(() => {
    const element = box.current!;
    const term = new Terminal({
      cursorBlink: true,
      fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace',
      fontSize: 13,
      scrollback: 5000,
      theme: { background: '#11141a', foreground: '#e5e8ee' },
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(element);
    termRef.current = term;
    fitRef.current = fit;
    Object.defineProperty(element, 'terminalText', {
      configurable: true,
      value: () => {
        const buffer = term.buffer.active;
        const lines: string[] = [];
        for (let i = 0; i < buffer.length; i++) lines.push(buffer.getLine(i)?.translateToString(true) ?? '');
        return lines.join('\n').replace(/\n+$/, '');
      },
    });

    const detach = router.attach(sessionId, (bytes) => term.write(bytes));
    // Keys and pastes go one call after the other, in order; a paste longer than one call
    // goes in pieces, and one past MAX_PASTE_CHARS is refused in the terminal, saying so.
    let typed: Promise<unknown> = Promise.resolve();
    const onData = term.onData((data) => {
      if (endedRef.current) return;
      if (data.length > MAX_PASTE_CHARS) {
        term.write(pasteRefusal(data.length));
        return;
      }
      for (const piece of inputPieces(data))
        typed = typed.then(() =>
          endedRef.current
            ? undefined
            : api.call('terminal:input', { id: sessionId, data: piece }).catch(() => undefined),
        );
    });

    let timer: ReturnType<typeof setTimeout> | undefined;
    let sent = '';
    const onResize = term.onResize(({ cols, rows }) => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const size = `${cols}x${rows}`;
        if (size === sent || endedRef.current) return;
        sent = size;
        void api.call('terminal:resize', { id: sessionId, cols, rows }).catch(() => undefined);
      }, RESIZE_DEBOUNCE_MS);
    });
    const observer = new ResizeObserver(() => fitTo(fit, term));
    observer.observe(element);
    fitTo(fit, term);
    // The session was opened at 80x24: send the fitted size even if fitting did not change it.
    if (`${term.cols}x${term.rows}` !== '80x24') {
      sent = `${term.cols}x${term.rows}`;
      void api
        .call('terminal:resize', { id: sessionId, cols: term.cols, rows: term.rows })
        .catch(() => undefined);
    }

    return () => {
      clearTimeout(timer);
      observer.disconnect();
      onResize.dispose();
      onData.dispose();
      detach();
      term.dispose();
      termRef.current = undefined;
    };
  }, [api, sessionId, router]);

  // Shown again: fit to the box (it may have changed while hidden) and take the keys.
  useEffect(() => {
    const term = termRef.current;
    if (!visible || !term || !fitRef.current) return;
    fitTo(fitRef.current, term);
    term.focus();
  }, [visible]);

  return <div className="xterm-box" ref={box} data-session={sessionId} />;
}
