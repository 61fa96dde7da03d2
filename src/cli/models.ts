/** `captcha-lab models`: the registered architectures with their summaries. */
import * as fs from 'fs';
import { Command } from 'commander';
import { createModel, formatSummary, listModels, readModelMetadata, summarizeModel } from '../models';
import { addBackendOptions, startBackend } from './common';

export function register(program: Command): void {
  const cmd = program
    .command('models')
    .description('list the model architectures; with a name, print its layers and parameter counts')
    .argument('[name]', 'architecture to summarise');
  addBackendOptions(cmd).action(async (name: string | undefined, opts) => {
    if (!name) {
      for (const spec of listModels()) {
        const { height, width, channels } = spec.defaultInput;
        console.log(`${spec.name.padEnd(8)} ${spec.head.padEnd(12)} ${width}x${height}x${channels}  ${spec.description}`);
      }
      return;
    }
    if (!listModels().some((spec) => spec.name === name) && fs.existsSync(name)) {
      // a saved model's folder (or another path) given where an architecture name goes
      const names = listModels().map((spec) => spec.name).join(', ');
      let architecture: string | undefined;
      try {
        architecture = readModelMetadata(name).architecture;
      } catch {
        architecture = undefined;
      }
      throw new Error(
        architecture
          ? `'${name}' is a saved model folder, not an architecture name; its architecture is ${architecture}: \`captcha-lab models ${architecture}\``
          : `'${name}' is a ${fs.statSync(name).isDirectory() ? 'folder' : 'file'}, not an architecture name; pick one of ${names}`,
      );
    }
    await startBackend(opts);
    const model = createModel(name);
    console.log(formatSummary(summarizeModel(model)));
    model.dispose();
  });
}
