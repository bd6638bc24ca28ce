// First run: the project's seed files (data/<db>.jsonl) offered for loading into local
// databases that have no documents yet.

import type { SeedFile } from './api-types';
import type { Backend } from './backend';
import { el } from './dom';

/** One seed file (`sample_data`). */
export type { SeedFile } from './api-types';

/** The seed files of the open project that may be loaded now. */
export async function loadableSeeds(backend: Backend): Promise<SeedFile[]> {
  try {
    return (await backend.call('sample_data')).data.filter((d) => d.loadable);
  } catch {
    return [];
  }
}

/**
 * When `db` is empty and the project has `data/<db>.jsonl`, puts a "Load sample data" button
 * into `box`; `loaded(message)` is called after loading.
 */
export async function offerSampleData(backend: Backend, db: string, box: HTMLElement, loaded: (message: string, error?: boolean) => void) {
  box.querySelector('[data-testid="load-sample"]')?.remove();
  const seed = (await loadableSeeds(backend)).find((d) => d.db === db);
  if (!seed) return;
  const b = el('button', { 'data-testid': 'load-sample', title: `Writes the ${seed.documents} document(s) of ${seed.file} into ${db}` }, `Load sample data (${seed.file}, ${seed.documents} document(s))`);
  b.addEventListener('click', async () => {
    b.disabled = true;
    try {
      const r = await backend.call('sample_data_load', { db });
      b.remove();
      loaded(`loaded ${r.written} document(s) of ${seed.file} into ${db}${r.refused.length ? `; refused: ${r.refused.join('; ')}` : ''}`, r.refused.length > 0);
    } catch (e) {
      b.disabled = false;
      loaded((e as Error).message, true);
    }
  });
  box.append(' ', b);
}
