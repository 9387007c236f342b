// Every engine the tests start from source (`node --import tsx src/engine/cli.ts`, its inference worker under
// tsx/cjs, engines started from a temporary folder) must compile the sources exactly as this process does: tsx looks
// for tsconfig.json from the child's working directory, so a child started outside the repository compiled without it
// (other output, other offsets), and c8, which merges all processes' V8 ranges per file, then reported covered code as
// uncovered (model/int8.ts: 95.6 % alone, 17.9 % in the full run). Pin the one tsconfig for every child.
const { join } = require('node:path');

process.env.TSX_TSCONFIG_PATH ??= join(__dirname, '..', 'tsconfig.json');
