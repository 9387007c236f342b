import { ENGINE_PROTOCOL_VERSION } from '../protocol/engine-events';

// Placeholder entry: replaced by the streaming engine CLI.
process.stdout.write(`huaju4k engine (protocol v${ENGINE_PROTOCOL_VERSION})\n`);
