/** `npm run bench -- <name> [flags]`: runs bench/<name>.ts (inbound, ...). */
const [name = 'inbound', ...rest] = process.argv.slice(2);
if (!/^[a-z-]+$/.test(name)) {
  console.error(`bench: unknown benchmark "${name}"`);
  process.exit(2);
}
process.argv = [process.argv[0]!, new URL(`./${name}.ts`, import.meta.url).pathname, ...rest];
await import(`./${name}.ts`);
