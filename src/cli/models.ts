/** `captcha-lab models`: the registered architectures with their summaries. */
import { Command } from 'commander';
import { createModel, formatSummary, listModels, summarizeModel } from '../models';
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
    await startBackend(opts);
    const model = createModel(name);
    console.log(formatSummary(summarizeModel(model)));
    model.dispose();
  });
}
