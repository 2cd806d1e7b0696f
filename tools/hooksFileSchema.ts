// Writes schemas/hooks-file.schema.json from its TypeBox definition (shared/hooks/hooksFileSchema.ts):
// npx tsx tools/hooksFileSchema.ts (it runs the formatter on the file afterwards).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hooksFileJsonSchema } from '../shared/hooks/hooksFileSchema.ts';

const file = join(import.meta.dirname, '..', 'schemas', 'hooks-file.schema.json');
writeFileSync(file, hooksFileJsonSchema());
// Laid out as the linter wants it (`npm run lint` checks every JSON file too).
execFileSync('npx', ['biome', 'format', '--write', file], { stdio: 'ignore' });
process.stdout.write(`wrote ${file}\n`);
