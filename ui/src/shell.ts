// The workbench's first paint, imported by main.ts (in its chunk) before the studio chunk
// (Monaco and the screens): the panes at their remembered sizes, the theme, and the explorer as
// soon as the project's tree arrives. The studio takes over when it has loaded (explorer clicks made
// meanwhile wait for it).

import { mountLayout } from './layout';
import { applyTheme, savedTheme } from './settings';

export { showProject } from './explorer';

/** Lays out the panes and applies the theme (once). */
export function mountShell() {
  mountLayout();
  // Monaco follows once it is loaded (studio.ts applies the theme again with it).
  applyTheme(savedTheme(), () => {});
}
