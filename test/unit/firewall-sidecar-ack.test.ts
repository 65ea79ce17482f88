import { describe, expect, it } from 'vitest';
import { parseLoadAck, parseReply } from '../../electron/firewall/sidecar';

describe("the sidecar's answer to a table load", () => {
  it('is read on a line of its own', () => {
    expect(parseLoadAck('microlab-load 42.7 ok')).toEqual({ id: '42.7' });
    expect(parseLoadAck('microlab-load 42.8 failed: Error: syntax error ')).toEqual({
      id: '42.8',
      error: 'Error: syntax error',
    });
  });

  it('is read after part of a trace line the block-buffered monitor left on the same line', () => {
    const partial =
      'trace id 1f2e inet microlab trace_in packet: iif "eth0" ip saddr 198.19.0.5 ip daddr 198.1';
    expect(parseLoadAck(`${partial}microlab-load 42.9 ok`)).toEqual({ id: '42.9' });
    expect(parseLoadAck(`${partial}microlab-load 42.10 failed: busy`)).toEqual({
      id: '42.10',
      error: 'busy',
    });
  });

  it('ignores trace lines', () => {
    expect(parseLoadAck('trace id 1f2e inet microlab ingress verdict accept')).toBeUndefined();
    expect(parseLoadAck('microlab-load 42.11')).toBeUndefined();
  });
});

describe("a main process's reply to a load (the agent's report)", () => {
  it('is read with its load id, also after part of another line', () => {
    expect(parseReply('microlab-reply 42.7 {"loaded":3}')).toEqual({ id: '42.7', text: '{"loaded":3}' });
    expect(parseReply('trace id 1f2e inet microlab ingress pacmicrolab-reply 9.1 {}')).toEqual({
      id: '9.1',
      text: '{}',
    });
    expect(parseReply('microlab-load 42.7 ok')).toBeUndefined();
  });
});
