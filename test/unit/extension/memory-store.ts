import type { KeyValueStore } from '../../../src/extension/jobs/job-journal';

/** globalState's / workspaceState's part the journal and the history use, kept in memory (values as JSON, as VS Code stores them). */
export function memoryStore(): KeyValueStore {
  const map = new Map<string, unknown>();
  return {
    get: <T>(key: string) => map.get(key) as T | undefined,
    update: async (key: string, value: unknown) => {
      map.set(key, JSON.parse(JSON.stringify(value)));
    },
  };
}
