/**
 * Checks of the student's answers: a quiz question, accepted as written, or as this student's
 * own system says it (a command's output, a credential found where a workload stands).
 */
import { z } from 'zod';
import { execIn } from '../client';
import { ingressPeerCount } from '../export-reading';
import { exportReading, found, id, output } from '../fields';
import { checkKind, fail, norm, pass } from './kind';

export const answerChecks = {
  quiz: checkKind({
    fields: {
      question: id('question id'),
      accept: z
        .array(z.string().min(1).max(500))
        .default([])
        .meta({ description: 'accepted answers (case and spaces ignored)' }),
      acceptOutput: output.optional().meta({
        description:
          "also accepted: what a command prints in a workload now (a figure of this student's own shop)",
      }),
      acceptFound: found.optional().meta({
        description:
          "also accepted: the value read off the system where a workload stands (this student's own password, say)",
      }),
      acceptExport: exportReading.optional().meta({
        description:
          "also accepted: how many workloads the policy's Kubernetes NetworkPolicy form (microlab export kubernetes --to networkpolicy) lets into `ingressOf`, read off the export when checked",
      }),
    },
    describe: (check) => `answer to "${check.question}"`,
    async evaluate(check, ctx) {
      const answer = ctx.answers[check.question];
      if (answer === undefined) return fail(`no answer to "${check.question}" yet`);
      const accepted = [...check.accept];
      if (check.acceptOutput) {
        const r = await execIn(ctx.client, check.acceptOutput.workload, check.acceptOutput.command);
        if (r.exitCode !== 0)
          return fail(
            `cannot read the answer in ${check.acceptOutput.workload}: ${r.output.trim().slice(0, 200)}`,
          );
        accepted.push(r.output.trim());
      }
      if (check.acceptFound) {
        const value = await ctx.state.found(check.acceptFound.workload, check.acceptFound.field);
        if (value === undefined)
          return fail(`cannot read the ${check.acceptFound.field} found in ${check.acceptFound.workload}`);
        accepted.push(value);
      }
      if (check.acceptExport) accepted.push(String(await ingressPeerCount(ctx, check.acceptExport)));
      return accepted.some((a) => norm(a) === norm(answer))
        ? pass(`"${answer}" is right`)
        : fail(`"${answer}" is not the answer to "${check.question}"`);
    },
  }),
};
