import { generateLoad, type LoadOptions } from './harness.ts';

/** The load generator's own process: options as JSON in argv, the result as JSON on stdout. */
const { url, ...options } = JSON.parse(process.argv[2] ?? '{}') as LoadOptions & { url: string };
process.stdout.write(JSON.stringify(await generateLoad(url, options)));
process.exit(0);
