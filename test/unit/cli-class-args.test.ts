import { describe, expect, it } from 'vitest';
import { parseCommand, UsageError } from '../../electron/cli/args';

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
    [['class', 'guide'], { name: 'class-guide' }],
    [['class', 'guide', '--out', 'guide.md'], { name: 'class-guide', out: 'guide.md' }],
  ])('%j', (argv, command) => {
    expect(parseCommand(argv)).toEqual(command);
  });

  it.each([
    [['student', 'set'], 'student set needs your NAME'],
    [['student', 'set', '--id', 's1'], 'student set needs your NAME'],
    [['student', 'forget'], 'unknown student command "forget"'],
    [['class', 'report'], 'class report needs one or more exported progress FILES'],
    [['class', 'report', 'a.json', '--out', ' '], '--out needs a folder'],
    [['class', 'guide', 'x'], 'unexpected argument "x"'],
    [['class', 'host'], 'class needs a command'],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseCommand(argv)).toThrow(UsageError);
    expect(() => parseCommand(argv)).toThrow(message);
  });
});
