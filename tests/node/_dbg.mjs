import { openStudio } from './lib/studio.mjs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
const t = { after: (f) => (globalThis.__after = f) };
const { page } = await openStudio(t, { prepare: (p) => writeFileSync(join(p, 'connectors/orders/design/app/views/by_id/map.js'), 'function (doc) {\n  var a = 1;\n  emit(doc._id;\n}\n') });
await page.waitForTimeout(500);
console.log(await page.evaluate(() => [document.querySelector('#problems-list').innerHTML.slice(0, 600), document.querySelector('#status').textContent]));
await globalThis.__after(); process.exit(0);
