// The first thing the studio does: ask for the project. main.ts imports this module before any
// other, so the request leaves while the rest of the entry chunk (layout, explorer) evaluates.

import type { ProjectTree } from './api-types';
import { HttpBackend } from './backend';
import { backend } from './state';

/** The first `project_tree` answer (null: a web page without a token in its URL). */
export const first: Promise<ProjectTree> | null = backend instanceof HttpBackend && !backend.hasToken() ? null : backend.call('project_tree');
first?.catch(() => {}); // reported by the studio once it has loaded
