import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../electron/cli/commands';
import { UsageError } from '../../electron/cli/values';

describe('microlab student and class arguments', () => {
  it.each([
    [['student'], { name: 'student-show', json: false }],
    [['student', '--json'], { name: 'student-show', json: true }],
    [['student', 'set', 'Ana', 'Lima'], { name: 'student-set', student: 'Ana Lima' }],
    [['student', 'set', 'Ana Lima', '--id', 's1'], { name: 'student-set', student: 'Ana Lima', id: 's1' }],
    [
      ['class', 'summary', 'a.json', 'b.json'],
      { name: 'class-summary', files: ['a.json', 'b.json'], json: false },
    ],
    [
      ['class', 'report', 'a.json', 'b.json'],
      { name: 'class-report', files: ['a.json', 'b.json'], json: false },
    ],
    [
      ['class', 'report', '--json', '--out', 'report', 'a.json'],
      { name: 'class-report', files: ['a.json'], json: true, out: 'report' },
    ],
    [
      ['class', 'report', '--class', 'late.json'],
      { name: 'class-report', files: ['late.json'], json: false, live: true },
    ],
    [['class', 'report', '--class'], { name: 'class-report', files: [], json: false, live: true }],
    [['class', 'guide'], { name: 'class-guide' }],
    [['class', 'guide', '--out', 'guide.md'], { name: 'class-guide', out: 'guide.md' }],
    [
      ['class', 'guide', '--track', 'workshop', '--html', 'guide.html'],
      { name: 'class-guide', html: 'guide.html', track: 'workshop' },
    ],
  ])('%j', (argv, command) => {
    expect(parseCommand(argv)).toEqual(command);
  });

  it.each([
    [['student', 'set'], 'student set needs NAME'],
    [['student', 'set', '--id', 's1'], 'student set needs NAME'],
    [['student', 'set', ' '], 'student set needs your NAME'],
    [['student', 'forget'], 'unknown student command "forget"'],
    [['class', 'report'], 'class report needs FILES'],
    [['class', 'report', 'a.json', '--out', ' '], '--out must not be blank'],
    [['class', 'guide', 'x'], 'unexpected argument "x"'],
    [['class'], 'class needs a command: summary, report, guide, host, join or catch-up'],
    [['class', 'teach'], 'unknown class command "teach"'],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseCommand(argv)).toThrow(UsageError);
    expect(() => parseCommand(argv)).toThrow(message);
  });
});
