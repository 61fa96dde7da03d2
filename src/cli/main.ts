#!/usr/bin/env node
/**
 * The `captcha-lab` command line. Each command lives in its own file under src/cli/ and exports
 * a `register(program)` function; this file only wires them together.
 */
import { Command } from 'commander';

export function buildProgram(): Command {
  const program = new Command('captcha-lab')
    .description('Generate text CAPTCHAs, train CNNs to read them, evaluate and predict.')
    .showHelpAfterError();
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
