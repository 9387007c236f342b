import assert from 'node:assert/strict';
import { parseEngineEvent } from '../../../src/protocol/engine-events';

describe('protocol: parseEngineEvent', () => {
  it('accepts a known event from a JSON line', () => {
    const ev = parseEngineEvent('{"type":"warning","ts":1,"code":"x","message":"m"}');
    assert.equal(ev?.type, 'warning');
  });
  it('rejects unknown types, missing timestamps, arrays and broken JSON', () => {
    assert.equal(parseEngineEvent('{"type":"rm -rf","ts":1}'), undefined);
    assert.equal(parseEngineEvent('{"type":"progress"}'), undefined);
    assert.equal(parseEngineEvent('[1,2]'), undefined);
    assert.equal(parseEngineEvent('{not json'), undefined);
    assert.equal(parseEngineEvent(42), undefined);
  });
});
