/**
 * The class dashboard's cells computed outside React: a student who has started no lab yet is
 * not shown as done with a step.
 */
import { describe, expect, it } from 'vitest';
import { minutesText } from '../../renderer/src/views/ClassView';

describe("the dashboard's minutes on step", () => {
  it('shows – before any lab, the minutes on a step not done, and done once passed', () => {
    expect(minutesText({ minutesOnStep: null })).toBe('–');
    expect(minutesText({ lab: 'monolith-flat', minutesOnStep: 0 })).toBe('0');
    expect(minutesText({ lab: 'monolith-flat', minutesOnStep: 12 })).toBe('12');
    expect(minutesText({ lab: 'monolith-flat', minutesOnStep: null })).toBe('done');
  });
});
