#!/usr/bin/env node
/**
 * The `captcha-lab` command line. Each command lives in its own file under src/cli/ and exports
 * a `register(program)` function; this file only wires them together.
 */
import { Command } from 'commander';
import { register as registerDemo } from './demo';
import { register as registerEvaluate } from './evaluate';
import { register as registerMatrix } from './matrix';
import { register as registerCalibrate } from './calibrate';
import { register as registerGenerate } from './generate';
import { register as registerPredict } from './predict';
import { register as registerTrain } from './train';
import { register as registerReplicate } from './replicate';
import { register as registerModels } from './models';
import { register as registerInspect } from './inspect';
import { register as registerRobustness } from './robustness';

export function buildProgram(): Command {
  const program = new Command('captcha-lab')
    .description('Generate text CAPTCHAs, train CNNs to read them, evaluate and predict.')
    .showHelpAfterError();
  for (const register of [registerDemo, registerGenerate, registerTrain, registerReplicate, registerEvaluate, registerMatrix, registerCalibrate, registerPredict, registerModels, registerInspect, registerRobustness]) {
    register(program);
  }
  return program;
}

if (require.main === module) {
  buildProgram()
    .parseAsync(process.argv)
    .catch((err: unknown) => {
      console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    });
}
