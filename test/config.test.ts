import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../src/config.ts';

test('with nothing set, Parley listens on 127.0.0.1:8080 and keeps its data in ./data on the embedded database', () => {
  const config = loadConfig({});
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.port, 8080);
  assert.match(config.dataDir, /\/data$/);
  assert.equal(config.databaseUrl, undefined);
});

test('flags win over environment variables', () => {
  const config = loadConfig({ PARLEY_PORT: '9000', PARLEY_HOST: '0.0.0.0' }, { port: '9100' });
  assert.equal(config.port, 9100);
  assert.equal(config.host, '0.0.0.0');
});

test('a bad value names the variable, the flag and what is expected', () => {
  assert.throws(() => loadConfig({ PARLEY_PORT: 'eighty' }), (error: Error) => {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.message, 'invalid PARLEY_PORT (--port) "eighty": expected an integer from 0 to 65535');
    return true;
  });
  assert.throws(() => loadConfig({}, { port: '70000' }), /PARLEY_PORT \(--port\) "70000"/);
  assert.throws(() => loadConfig({ DATABASE_URL: 'mysql://x' }), /invalid DATABASE_URL \(--database-url\) "mysql:\/\/x": expected a URL of the form postgres:\/\//);
  assert.throws(() => loadConfig({ PARLEY_LOG_LEVEL: 'loud' }), /expected one of fatal, error, warn, info, debug, trace, silent/);
  assert.throws(() => loadConfig({ PARLEY_TRUST_PROXY: 'yes' }), /PARLEY_TRUST_PROXY/);
});

test('an empty variable counts as unset', () => {
  assert.equal(loadConfig({ PARLEY_PORT: '', DATABASE_URL: '' }).port, 8080);
  assert.equal(loadConfig({ DATABASE_URL: '' }).databaseUrl, undefined);
});

test('PUBLIC_URL loses its trailing slash and must be a URL', () => {
  assert.equal(loadConfig({ PUBLIC_URL: 'https://parley.example.com/' }).publicUrl, 'https://parley.example.com');
  assert.throws(() => loadConfig({ PUBLIC_URL: 'parley.example.com' }), /PUBLIC_URL \(--public-url\)/);
});
